// An instance (orchestration or entity) held in memory while it has work: its record, history,
// waiting messages and dispatch bookkeeping.
import { HistoryEvent, InstanceRecord, MessageRecord } from "../core/model";
import { Lease } from "./dispatcher";

export interface HotInstance {
  rec: InstanceRecord;
  history: HistoryEvent[];
  inbox: MessageRecord[];
  /** The work item in flight, if one is. */
  lease?: Lease;
  /** In its ready queue already. */
  queued: boolean;
  /** Not dispatched before this time (after an abandon). */
  notBefore: number;
  abandonCount: number;
}

export function hotInstance(rec: InstanceRecord, history: HistoryEvent[] = []): HotInstance {
  return { rec, history, inbox: [], queued: false, notBefore: 0, abandonCount: 0 };
}
