// The engine's group commit in PostgreSQL with few round trips: a batch of instance, history,
// message and activity ops is first folded into its net effect per row (the last write of a row
// wins; a deleted instance takes its earlier rows with it), then written with one statement per
// table, each row set passed as arrays and unnested. The result equals applying the ops in order.
// Batches with hub, schedule or retention ops are not folded (they are rare): foldOps says so.
import { PoolClient } from "pg";
import { ActivityRecord } from "../core/model";
import { EncodedOp } from "./encoded-batch";
import { checkAppendFrom, unknownHub } from "./ops";
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
}

/** The batch's net effect per hub, or undefined when it holds an op this path does not fold. */
export function foldOps(ops: EncodedOp[]): Map<string, HubBatch> | undefined {
  const hubs = new Map<string, HubBatch>();
  for (const op of ops) {
    let b = hubs.get(op.hub);
    if (!b) hubs.set(op.hub, (b = { instances: new Map(), wiped: new Set(), reset: new Set(), history: new Map(), messages: new Map(), activities: new Map(), maxSeq: 0 }));
    switch (op.op) {
      case "putInstance":
        b.instances.set(op.instance.instanceId, instanceColumns(op.instance));
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
        b.maxSeq = Math.max(b.maxSeq, op.message.seq);
        break;
      case "deleteMessages":
        for (const seq of op.seqs) b.messages.set(seq, null);
        break;
      case "putActivity":
        b.activities.set(op.activity.seq, op.activity);
        b.maxSeq = Math.max(b.maxSeq, op.activity.seq);
        break;
      case "deleteActivity":
        b.activities.set(op.seq, null);
        break;
      default:
        return undefined;
    }
  }
  return hubs;
}

/** Writes folded batches inside the caller's transaction. */
export async function writeFolded(c: PoolClient, hubs: Map<string, HubBatch>): Promise<void> {
  const names = [...hubs.keys()];
  const known = new Set((await c.query<{ name: string }>("SELECT name FROM hubs WHERE name = ANY($1::text[])", [names])).rows.map((r) => r.name));
  for (const name of names) if (!known.has(name)) throw unknownHub(name);
  for (const [hub, b] of hubs) await writeHub(c, hub, b);
}

const INSTANCE_COLUMNS: [string, string][] = [
  ["instance_id", "text"], ["status", "int"], ["created_at", "bigint"], ["completed_at", "bigint"], ["input", "text"],
  ["output", "text"], ["custom_status", "text"], ["data", "text"], ["name", "text"], ["parent_instance_id", "text"],
];
const MESSAGE_COLUMNS: [string, string][] = [["seq", "bigint"], ["instance_id", "text"], ["execution_id", "text"], ["visible_at", "bigint"], ["event", "bytea"]];
const ACTIVITY_COLUMNS: [string, string][] = [
  ["seq", "bigint"], ["instance_id", "text"], ["execution_id", "text"], ["task_id", "int"], ["name", "text"],
  ["version", "text"], ["input", "text"], ["tags", "text"], ["visible_at", "bigint"], ["abandon_count", "int"],
];

async function writeHub(c: PoolClient, hub: string, b: HubBatch): Promise<void> {
  if (b.reset.size > 0) {
    // Different tables, so one statement: data-modifying CTEs all run.
    await c.query(
      `WITH h AS (DELETE FROM history WHERE hub = $1 AND instance_id = ANY($3::text[])),
            m AS (DELETE FROM messages WHERE hub = $1 AND instance_id = ANY($2::text[])),
            a AS (DELETE FROM activities WHERE hub = $1 AND instance_id = ANY($2::text[]))
       DELETE FROM instances WHERE hub = $1 AND instance_id = ANY($2::text[])`,
      [hub, [...b.wiped], [...b.reset]],
    );
  }
  const unchecked = [...b.history].filter(([, h]) => !h.checked);
  if (unchecked.length > 0) {
    // idx runs 0..length-1 without gaps (checked on every append), so max + 1 is the length.
    const rows = (await c.query<{ id: string; n: number }>(
      "SELECT instance_id AS id, (max(idx) + 1)::bigint AS n FROM history WHERE hub = $1 AND instance_id = ANY($2::text[]) GROUP BY instance_id",
      [hub, unchecked.map(([id]) => id)],
    )).rows;
    const lengths = new Map(rows.map((r) => [r.id, r.n]));
    for (const [id, h] of unchecked) checkAppendFrom({ op: "appendHistory", hub, instanceId: id, from: h.from, events: h.events }, lengths.get(id) ?? 0);
  }
  await upsert(c, "instances", "instance_id", INSTANCE_COLUMNS, hub, [...b.instances.values()]);
  const events: [string, number, Buffer][] = [];
  for (const [id, h] of b.history) h.events.forEach((e, i) => events.push([id, h.from + i, bytes(e)]));
  if (events.length > 0) {
    await c.query(
      "INSERT INTO history (hub, instance_id, idx, event) SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bytea[])",
      [hub, ...columnsOf(events, 3)],
    );
  }
  await removeSeqs(c, "messages", hub, b.messages);
  await upsert(c, "messages", "seq", MESSAGE_COLUMNS, hub, present(b.messages).map((m) => [m.seq, m.instanceId, m.executionId ?? null, m.visibleAt, bytes(m.event)]));
  await removeSeqs(c, "activities", hub, b.activities);
  await upsert(c, "activities", "seq", ACTIVITY_COLUMNS, hub, present(b.activities).map(activityColumns));
  if (b.maxSeq > 0) await c.query("UPDATE hubs SET max_seq = GREATEST(max_seq, $1) WHERE name = $2", [b.maxSeq, hub]);
}

/** INSERT of many rows of the hub as arrays, unnested; an existing key's row is updated. */
async function upsert(c: PoolClient, table: string, key: string, columns: [string, string][], hub: string, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map(([n]) => n);
  const arrays = columns.map(([, type], i) => `$${i + 2}::${type}[]`).join(", ");
  const updates = names.filter((n) => n !== key).map((n) => `${n} = excluded.${n}`).join(", ");
  await c.query(
    `INSERT INTO ${table} (hub, ${names.join(", ")}) SELECT $1, * FROM unnest(${arrays}) ON CONFLICT (hub, ${key}) DO UPDATE SET ${updates}`,
    [hub, ...columnsOf(rows, columns.length)],
  );
}

async function removeSeqs(c: PoolClient, table: string, hub: string, rows: Map<number, unknown>): Promise<void> {
  const seqs = [...rows].filter(([, r]) => r === null).map(([seq]) => seq);
  if (seqs.length > 0) await c.query(`DELETE FROM ${table} WHERE hub = $1 AND seq = ANY($2::bigint[])`, [hub, seqs]);
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
