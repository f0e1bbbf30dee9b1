// The PostgreSQL side of messages between a hub's partitions: the partition_inbox rows (written in
// the sender's transaction, deleted in the receiver's, which fails unless each one is still there:
// exactly once), and the NOTIFY that wakes the receiver as soon as the sender commits.
import { Client, Pool, PoolClient } from "pg";
import { EncodedOp, packInboxMessage, unpackInboxMessage } from "./encoded-batch";
import { inboxConsumed } from "./ops";
import { InboxEntry } from "./store";

/** The channel a write to a partition's inbox notifies, with "part:hub" as the payload. */
export const INBOX_CHANNEL = "dts_inbox";

export function inboxPayload(part: number, hub: string): string {
  return `${part}:${hub}`;
}

/** Inserts or consumes inbox rows inside the caller's transaction. */
export async function applyInboxOp(c: PoolClient, op: Extract<EncodedOp, { op: "putInbox" | "deleteInbox" }>): Promise<void> {
  if (op.op === "putInbox") {
    await c.query("INSERT INTO partition_inbox (hub, part, message) VALUES ($1, $2, $3)", [op.hub, op.part, packInboxMessage(op.message)]);
    // Delivered when (and only if) the transaction commits.
    await c.query("SELECT pg_notify($1, $2)", [INBOX_CHANNEL, inboxPayload(op.part, op.hub)]);
    return;
  }
  const ids = [...new Set(op.ids)];
  const deleted = await c.query<{ id: number }>("DELETE FROM partition_inbox WHERE hub = $1 AND part = $2 AND id = ANY($3::bigint[]) RETURNING id", [op.hub, op.part, ids]);
  if (deleted.rows.length !== ids.length) {
    const found = new Set(deleted.rows.map((r) => r.id));
    throw inboxConsumed(op.hub, op.part, ids.filter((id) => !found.has(id)));
  }
}

export async function readInbox(pool: Pool, hub: string, part: number, limit: number): Promise<InboxEntry[]> {
  const rows = (await pool.query<{ id: number; message: Buffer }>("SELECT id, message FROM partition_inbox WHERE hub = $1 AND part = $2 ORDER BY id LIMIT $3", [hub, part, limit])).rows;
  return rows.map((r) => ({ id: r.id, message: unpackInboxMessage(r.message) }));
}

/**
 * LISTENs on a connection of its own (a pooled one would be handed to other queries) and calls the
 * listener for every inbox write another transaction commits. A lost connection is opened again
 * after `retryMs`; the engine's periodic read of its inboxes covers what was sent meanwhile.
 */
export async function listenInbox(url: string, listener: (hub: string, part: number) => void, retryMs = 1000): Promise<() => Promise<void>> {
  let stopped = false;
  let client: Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const c = new Client({ connectionString: url });
    c.on("notification", (n) => {
      const payload = n.payload ?? "";
      const colon = payload.indexOf(":");
      if (n.channel === INBOX_CHANNEL && colon > 0) listener(payload.slice(colon + 1), Number(payload.slice(0, colon)));
    });
    c.on("error", () => {
      if (client !== c) return;
      client = undefined;
      void c.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void connect().catch(() => {}), retryMs);
    });
    await c.connect();
    await c.query(`LISTEN ${INBOX_CHANNEL}`);
    if (stopped) return void (await c.end());
    client = c;
  };
  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = undefined;
    await c?.end();
  };
}
