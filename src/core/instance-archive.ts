// The export format: one JSON line per orchestration instance, its record and its full history. The
// record is the engine's own (times in epoch ms); events are the protocol's HistoryEvent messages as
// JSON (set fields only), so a line decodes back to the same protobuf bytes. Import takes only
// finished instances: an unfinished one also needs its queued messages and tasks, which are not
// part of an export.
import { invalid } from "./errors";
import { checkInstanceId, nulStringPath } from "./limits";
import { HistoryEvent, InstanceRecord, isTerminal, statusName } from "./model";
import { pb } from "../proto";

export interface ArchivedInstance {
  instance: InstanceRecord;
  history: HistoryEvent[];
}

export function archiveLine(instance: InstanceRecord, history: HistoryEvent[]): string {
  return JSON.stringify({ instance, history });
}

/** A line of an export, checked: a finished orchestration (no entity) with a history whose events encode. */
export function parseArchiveLine(text: string, where: string): ArchivedInstance {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw invalid(`${where} is not JSON (${(err as Error).message}); is this a file dts export wrote?`);
  }
  const o = v as { instance?: Partial<InstanceRecord>; history?: unknown };
  const r = o?.instance;
  if (!r || typeof r !== "object" || !Array.isArray(o.history)) throw invalid(`${where} must be {"instance": {...}, "history": [...]}, as dts export writes`);
  checkInstanceId(r.instanceId, `${where}: instance.instanceId`);
  for (const f of ["executionId", "name"] as const) if (typeof r[f] !== "string") throw invalid(`${where}: instance.${f} must be a string`);
  if (typeof r.status !== "number" || !isTerminal(r.status)) {
    throw invalid(`${where}: instance '${r.instanceId}' is ${typeof r.status === "number" ? statusName(r.status) : "without a status"}; only finished instances (Completed, Failed, Canceled, Terminated) are imported`);
  }
  for (const f of ["createdAt", "lastUpdatedAt", "completedAt"] as const) if (typeof r[f] !== "number") throw invalid(`${where}: instance.${f} must be a time in epoch milliseconds`);
  if (r.entity) throw invalid(`${where}: '${r.instanceId}' is an entity; only orchestrations are imported`);
  // Data kept before the scheduler refused U+0000 may hold it; PostgreSQL's text cannot (the history is bytes).
  const nul = nulStringPath(r);
  if (nul !== undefined) throw invalid(`${where}: instance.${nul} of '${r.instanceId}' holds the character U+0000 (NUL), which the scheduler does not keep`);
  const history = o.history.map((e, i) => {
    try {
      // Through the codec, so what is stored is exactly what a protobuf message holds.
      return pb.HistoryEvent.decode(pb.HistoryEvent.encode(e as pb.IHistoryEvent).finish());
    } catch (err) {
      throw invalid(`${where}: history event ${i} is not a HistoryEvent (${(err as Error).message})`);
    }
  });
  return { instance: r as InstanceRecord, history };
}
