// The engine's group commit in PostgreSQL with few round trips: a batch of instance, history,
// message and activity ops is first folded into its net effect per row (the last write of a row
// wins; a deleted instance takes its earlier rows with it), then written with one statement per
// table, each row set passed as arrays and unnested. The result equals applying the ops in order.
// Batches with hub, schedule or retention ops are not folded (they are rare): foldOps says so.
import { FenceClaim } from "../core/leases";
import { ActivityRecord } from "../core/model";
import { EncodedOp, packInboxMessage } from "./encoded-batch";
import { checkFence, FENCE_LOST_COLUMN, fenceCtes, fenceStatement } from "./postgres-fence";
import { INBOX_CHANNEL } from "./postgres-inbox";
import { checkAppendFrom, seqWritten, unknownHub } from "./ops";
import { activityColumns, instanceColumns } from "./rows";

type Message = Extract<EncodedOp, { op: "putMessage" }>["message"];

interface HubBatch {
  /** Instance rows to write, by id. */
  instances: Map<string, unknown[]>;
  /** Instances deleted (with their history, messages and activities) before anything is written. */
  wiped: Set<string>;
  /** Histories emptied before anything is written (replaced or wiped). */
  reset: Set<string>;
  /** Events to add per instance from index `from`; `checked` once `from` is known to be the history's end. */
  history: Map<string, { from: number; events: Uint8Array[]; checked: boolean }>;
  /** Rows to write, or null to delete, by seq. */
  messages: Map<number, Message | null>;
  activities: Map<number, ActivityRecord | null>;
  maxSeq: number;
  /** The partition of an instance id in this hub (the part column of its rows). */
  partOf: (instanceId: string) => number;
  /** Messages to other partitions' inboxes, and inbox rows consumed (by partition, id). */
  inbox: { part: number; message: Buffer }[];
  consumed: { part: number; id: number }[];
}

/** The batch's net effect per hub, or undefined when it holds an op this path does not fold. `partOf`: an instance's partition in a hub. */
export function foldOps(ops: EncodedOp[], partOf: (hub: string, instanceId: string) => number): Map<string, HubBatch> | undefined {
  const hubs = new Map<string, HubBatch>();
  for (const op of ops) {
    let b = hubs.get(op.hub);
    if (!b) {
      const hub = op.hub;
      hubs.set(hub, (b = {
        instances: new Map(), wiped: new Set(), reset: new Set(), history: new Map(), messages: new Map(), activities: new Map(), maxSeq: 0,
        partOf: (id) => partOf(hub, id), inbox: [], consumed: [],
      }));
    }
    switch (op.op) {
      case "putInstance":
        b.instances.set(op.instance.instanceId, [...instanceColumns(op.instance), b.partOf(op.instance.instanceId)]);
        break;
      case "putInbox":
        b.inbox.push({ part: op.part, message: packInboxMessage(op.message) });
        break;
      case "deleteInbox":
        for (const id of op.ids) b.consumed.push({ part: op.part, id });
        break;
      case "deleteInstance": {
        const id = op.instanceId;
        b.instances.delete(id);
        b.wiped.add(id);
        b.reset.add(id);
        b.history.set(id, { from: 0, events: [], checked: true });
        for (const [seq, m] of b.messages) if (m?.instanceId === id) b.messages.delete(seq);
        for (const [seq, a] of b.activities) if (a?.instanceId === id) b.activities.delete(seq);
        break;
      }
      case "replaceHistory":
        b.reset.add(op.instanceId);
        b.history.set(op.instanceId, { from: 0, events: [...op.events], checked: true });
        break;
      case "appendHistory": {
        const h = b.history.get(op.instanceId);
        if (!h) {
          b.history.set(op.instanceId, { from: op.from, events: [...op.events], checked: false });
          break;
        }
        checkAppendFrom(op, h.from + h.events.length);
        h.events.push(...op.events);
        break;
      }
      case "putMessage":
        b.messages.set(op.message.seq, op.message);
        break;
      case "deleteMessages":
        for (const seq of op.seqs) b.messages.set(seq, null);
        break;
      case "putActivity":
        b.activities.set(op.activity.seq, op.activity);
        break;
      case "deleteActivity":
        b.activities.set(op.seq, null);
        break;
      default:
        return undefined;
    }
    b.maxSeq = Math.max(b.maxSeq, seqWritten(op));
  }
  return hubs;
}

const INSTANCE_COLUMNS: [string, string][] = [
  ["instance_id", "text"], ["status", "int"], ["created_at", "bigint"], ["completed_at", "bigint"], ["input", "text"],
  ["output", "text"], ["custom_status", "text"], ["data", "text"], ["name", "text"], ["parent_instance_id", "text"], ["part", "int"],
];
const MESSAGE_COLUMNS: [string, string][] = [["seq", "bigint"], ["instance_id", "text"], ["execution_id", "text"], ["visible_at", "bigint"], ["event", "bytea"], ["part", "int"]];
const ACTIVITY_COLUMNS: [string, string][] = [
  ["seq", "bigint"], ["instance_id", "text"], ["execution_id", "text"], ["task_id", "int"], ["name", "text"],
  ["version", "text"], ["input", "text"], ["tags", "text"], ["visible_at", "bigint"], ["abandon_count", "int"], ["part", "int"],
];

/** A statement of a folded batch; `hub` names the hub whose rows it writes (checkWritten checks them). */
export interface FoldedStatement {
  text: string;
  values: unknown[];
  hub?: string;
}

/**
 * The statements that write folded batches: per hub, a clean-up of deleted instances and replaced
 * histories when there are any, then one statement for everything else. Run them in order, in one
 * transaction when there are several (one statement is atomic by itself); checkWritten() then
 * rejects what the database refused. With fence claims (postgres-fence.ts) the lease check goes
 * inside the write when the batch is one statement (no extra round trip), else first.
 */
export function foldedStatements(hubs: Map<string, HubBatch>, fence: readonly FenceClaim[] = []): FoldedStatement[] {
  const single = hubs.size === 1 && [...hubs.values()][0].reset.size === 0;
  const out: FoldedStatement[] = fence.length > 0 && !single ? [fenceStatement(fence)] : [];
  for (const [hub, b] of hubs) {
    if (b.reset.size > 0) {
      // Different tables, so one statement: data-modifying CTEs all run.
      out.push({
        text: `WITH h AS (DELETE FROM history WHERE hub = $1 AND instance_id = ANY($3::text[])),
                    m AS (DELETE FROM messages WHERE hub = $1 AND instance_id = ANY($2::text[])),
                    a AS (DELETE FROM activities WHERE hub = $1 AND instance_id = ANY($2::text[]))
               DELETE FROM instances WHERE hub = $1 AND instance_id = ANY($2::text[])`,
        values: [hub, [...b.wiped], [...b.reset]],
      });
    }
    out.push({ ...writeStatement(hub, b, single ? fence : []), hub });
  }
  return out;
}

type WrittenRow = { hub: boolean; inbox?: boolean; bad: { id: string; from: number; n: number }[] | null; fence_lost?: { hub: string; part: number }[] | null };

/** Throws unless the leases held, the hub exists, every consumed inbox row was still there and every append continued its stored history (the statement then wrote nothing). */
export function checkWritten(statement: FoldedStatement, row: WrittenRow | undefined): void {
  checkFence(row);
  const hub = statement.hub;
  if (!row || hub === undefined) return;
  if (!row.hub) throw unknownHub(hub);
  if (row.inbox === false) throw new Error(`inbox rows of hub "${hub}" this batch consumes were already consumed`);
  for (const bad of row.bad ?? []) checkAppendFrom({ op: "appendHistory", hub, instanceId: bad.id, from: bad.from, events: [] }, bad.n);
}

/**
 * One statement of data-modifying CTEs, each on rows no other touches (the fold made keys unique):
 * instances, history, messages, activities and the hub's seq mark, all see one snapshot. Each
 * writes only when the hub exists and every append continues its stored history (`ok`), so a
 * refused batch leaves nothing even outside a transaction.
 */
function writeStatement(hub: string, b: HubBatch, fence: readonly FenceClaim[]): { text: string; values: unknown[] } {
  const values: unknown[] = [hub, b.maxSeq];
  const param = (v: unknown, type: string) => `$${values.push(v)}::${type}`;
  const parts: string[] = [];
  const OK = "EXISTS (SELECT 1 FROM ok)";
  const upsert = (name: string, table: string, key: string, columns: [string, string][], rows: unknown[][]) => {
    if (rows.length === 0) return;
    const cols = columnsOf(rows, columns.length);
    const arrays = columns.map(([, type], i) => param(cols[i], `${type}[]`)).join(", ");
    const updates = columns.filter(([n]) => n !== key).map(([n]) => `${n} = excluded.${n}`).join(", ");
    parts.push(`${name} AS (INSERT INTO ${table} (hub, ${columns.map(([n]) => n).join(", ")}) SELECT $1, * FROM unnest(${arrays}) WHERE ${OK} ON CONFLICT (hub, ${key}) DO UPDATE SET ${updates})`);
  };
  const remove = (name: string, table: string, rows: Map<number, unknown>) => {
    const seqs = [...rows].filter(([, r]) => r === null).map(([seq]) => seq);
    if (seqs.length > 0) parts.push(`${name} AS (DELETE FROM ${table} WHERE hub = $1 AND seq = ANY(${param(seqs, "bigint[]")}) AND ${OK})`);
  };
  const unchecked = [...b.history].filter(([, h]) => !h.checked);
  const ids = param(unchecked.map(([id]) => id), "text[]");
  // idx runs 0..length-1 without gaps (checked on every append), so max + 1 is the length.
  parts.push(`len AS (SELECT instance_id AS id, (max(idx) + 1)::int AS n FROM history WHERE hub = $1 AND instance_id = ANY(${ids}) GROUP BY instance_id)`);
  parts.push(`bad AS (SELECT u.id, u.from, coalesce(len.n, 0) AS n FROM unnest(${ids}, ${param(unchecked.map(([, h]) => h.from), "int[]")}) AS u(id, "from")
    LEFT JOIN len ON len.id = u.id WHERE coalesce(len.n, 0) <> u.from)`);
  // Consumed inbox rows must all still be there: a message is applied once, by one commit.
  let inboxOk = "";
  let extra = "";
  if (b.consumed.length > 0) {
    const [cparts, cids] = columnsOf(b.consumed.map((c) => [c.part, c.id]), 2);
    parts.push(`gone AS (SELECT u.part, u.id FROM unnest(${param(cparts, "int[]")}, ${param(cids, "bigint[]")}) AS u(part, id))`);
    parts.push(`ib_ok AS (SELECT (SELECT count(*) FROM partition_inbox d JOIN gone USING (part, id) WHERE d.hub = $1) = (SELECT count(DISTINCT (part, id)) FROM gone) AS ok)`);
    inboxOk = " AND (SELECT ok FROM ib_ok)";
    extra += ", (SELECT ok FROM ib_ok) AS inbox";
  }
  if (fence.length > 0) parts.push(...fenceCtes(fence, param));
  const held = fence.length > 0 ? " AND NOT EXISTS (SELECT 1 FROM fence_lost)" : "";
  parts.push(`ok AS (SELECT 1 WHERE EXISTS (SELECT 1 FROM hubs WHERE name = $1) AND NOT EXISTS (SELECT 1 FROM bad)${inboxOk}${held})`);
  if (b.consumed.length > 0) parts.push(`di AS (DELETE FROM partition_inbox d USING gone WHERE d.hub = $1 AND d.part = gone.part AND d.id = gone.id AND ${OK})`);
  if (b.inbox.length > 0) {
    const [iparts, messages] = columnsOf(b.inbox.map((m) => [m.part, m.message]), 2);
    const p = param(iparts, "int[]");
    parts.push(`ib AS (INSERT INTO partition_inbox (hub, part, message) SELECT $1, * FROM unnest(${p}, ${param(messages, "bytea[]")}) WHERE ${OK})`);
    // Delivered when the statement commits; referenced below, since a SELECT in WITH runs only when used.
    parts.push(`n AS (SELECT pg_notify('${INBOX_CHANNEL}', x.part || ':' || $1) FROM (SELECT DISTINCT unnest(${p}) AS part) x WHERE ${OK})`);
    extra += ", (SELECT count(*) FROM n) AS notified";
  }
  parts.push(`s AS (UPDATE hubs SET max_seq = GREATEST(max_seq, $2) WHERE name = $1 AND ${OK})`);
  upsert("i", "instances", "instance_id", INSTANCE_COLUMNS, [...b.instances.values()]);
  const events: [string, number, Buffer][] = [];
  for (const [id, h] of b.history) h.events.forEach((e, i) => events.push([id, h.from + i, bytes(e)]));
  if (events.length > 0) {
    const [eventIds, idxs, data] = columnsOf(events, 3);
    parts.push(`h AS (INSERT INTO history (hub, instance_id, idx, event) SELECT $1, * FROM unnest(${param(eventIds, "text[]")}, ${param(idxs, "int[]")}, ${param(data, "bytea[]")})
      WHERE ${OK})`);
  }
  remove("dm", "messages", b.messages);
  upsert("m", "messages", "seq", MESSAGE_COLUMNS, present(b.messages).map((m) => [m.seq, m.instanceId, m.executionId ?? null, m.visibleAt, bytes(m.event), b.partOf(m.instanceId)]));
  remove("da", "activities", b.activities);
  upsert("a", "activities", "seq", ACTIVITY_COLUMNS, present(b.activities).map((a) => [...activityColumns(a), b.partOf(a.instanceId)]));
  if (fence.length > 0) extra += `, ${FENCE_LOST_COLUMN}`;
  return { text: `WITH ${parts.join(",\n")}\nSELECT EXISTS (SELECT 1 FROM hubs WHERE name = $1) AS hub, (SELECT json_agg(bad) FROM bad) AS bad${extra}`, values };
}

function present<T>(rows: Map<number, T | null>): T[] {
  return [...rows.values()].filter((r): r is T => r !== null);
}

/** Rows turned into one array per column. */
function columnsOf(rows: unknown[][], width: number): unknown[][] {
  const out: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) for (let i = 0; i < width; i++) out[i].push(row[i]);
  return out;
}

function bytes(e: Uint8Array): Buffer {
  return Buffer.from(e.buffer, e.byteOffset, e.byteLength);
}
