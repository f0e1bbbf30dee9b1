// Records as table rows, for every SQL store: the row shapes queries select (columns named as the
// record fields) and the conversions both ways. Absent optional fields are stored as NULL (or left
// out of the JSON) and read back as absent, so records round-trip exactly.
import { ActivityRecord, InstanceRecord, MessageRecord } from "../core/model";
import { decodeEvent } from "./encoded-batch";

export interface InstanceRow {
  instanceId: string;
  status: number;
  createdAt: number;
  completedAt: number | null;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  data: string;
}

export interface MessageRow {
  seq: number;
  instanceId: string;
  executionId: string | null;
  visibleAt: number;
  event: Buffer;
}

export interface ActivityRow {
  seq: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  version: string | null;
  input: string | null;
  tags: string | null;
  visibleAt: number;
  abandonCount: number | null;
}

export function instanceColumns(r: InstanceRecord): unknown[] {
  const { instanceId, status, createdAt, completedAt, input, output, customStatus, ...rest } = r;
  // name and parentInstanceId stay in data too (toInstance reads data); the columns are for filters.
  return [instanceId, status, createdAt, completedAt ?? null, input ?? null, output ?? null, customStatus ?? null, JSON.stringify(rest), r.name, r.parentInstanceId ?? null];
}

export function toInstance(row: InstanceRow): InstanceRecord {
  const r = JSON.parse(row.data) as InstanceRecord;
  r.instanceId = row.instanceId;
  r.status = row.status;
  r.createdAt = row.createdAt;
  if (row.completedAt !== null) r.completedAt = row.completedAt;
  if (row.input !== null) r.input = row.input;
  if (row.output !== null) r.output = row.output;
  if (row.customStatus !== null) r.customStatus = row.customStatus;
  return r;
}

export function toMessage(row: MessageRow): MessageRecord {
  const m: MessageRecord = { seq: row.seq, instanceId: row.instanceId, visibleAt: row.visibleAt, event: decodeEvent(row.event) };
  if (row.executionId !== null) m.executionId = row.executionId;
  return m;
}

export function activityColumns(a: ActivityRecord): unknown[] {
  return [
    a.seq, a.instanceId, a.executionId, a.taskId, a.name, a.version ?? null, a.input ?? null,
    a.tags ? JSON.stringify(a.tags) : null, a.visibleAt, a.abandonCount ?? null,
  ];
}

export function toActivity(row: ActivityRow): ActivityRecord {
  const a: ActivityRecord = {
    seq: row.seq,
    instanceId: row.instanceId,
    executionId: row.executionId,
    taskId: row.taskId,
    name: row.name,
    visibleAt: row.visibleAt,
  };
  if (row.version !== null) a.version = row.version;
  if (row.input !== null) a.input = row.input;
  if (row.tags !== null) a.tags = JSON.parse(row.tags) as Record<string, string>;
  if (row.abandonCount !== null) a.abandonCount = row.abandonCount;
  return a;
}
