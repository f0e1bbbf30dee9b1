// What only the PostgreSQL store has: its schema migrations, safe when several nodes start at once,
// and clear failures when the server is out of reach. The shared behaviour is in store.test.ts.
import { Client } from "pg";
import { PG_SCHEMA_VERSION } from "../../src/store/postgres-schema";
import { PostgresStore } from "../../src/store/postgres-store";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(() => postgres?.stop());

async function schemaRows(url: string): Promise<{ version: number }[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ version: number }>("SELECT version FROM dts_schema")).rows;
  } finally {
    await c.end();
  }
}

test("several nodes opening a new database at once migrate it exactly once, and all of them work", async () => {
  const url = await postgres.createDatabase("fresh");
  const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresStore.open(url)));
  try {
    expect(await schemaRows(url)).toEqual([{ version: PG_SCHEMA_VERSION }]);
    await stores[0].createHub("h");
    await stores[1].commit([{ op: "putInstance", hub: "h", instance: { instanceId: "i", executionId: "e", name: "N", status: 0, createdAt: 1, lastUpdatedAt: 1 } }]);
    expect((await stores[4].getInstance("h", "i"))?.name).toBe("N");
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
  // Opening an up-to-date database changes nothing.
  await (await PostgresStore.open(url)).close();
  expect(await schemaRows(url)).toEqual([{ version: PG_SCHEMA_VERSION }]);
});

test("a database a newer build has migrated is refused, not written", async () => {
  const url = await postgres.createDatabase("newer");
  await (await PostgresStore.open(url)).close();
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query("UPDATE dts_schema SET version = $1", [PG_SCHEMA_VERSION + 1]);
  await c.end();
  await expect(PostgresStore.open(url)).rejects.toThrow(`database schema version ${PG_SCHEMA_VERSION + 1} is newer than this build supports (${PG_SCHEMA_VERSION})`);
});

test("a server that is not there or a database that does not exist fails the open with the server's reason", async () => {
  const port = new URL(postgres.url).port;
  await expect(PostgresStore.open(`postgres://postgres@127.0.0.1:${port}/missing`)).rejects.toThrow(/database "missing" does not exist/);
  await expect(PostgresStore.open("postgres://postgres@127.0.0.1:1/db")).rejects.toThrow(/ECONNREFUSED/);
});

test("a failed commit applies nothing and the store keeps working", async () => {
  const store = await PostgresStore.open(await postgres.createDatabase("atomic"));
  try {
    await store.createHub("h");
    const instance = { instanceId: "i", executionId: "e", name: "N", status: 0, createdAt: 1, lastUpdatedAt: 1 };
    await expect(store.commit([{ op: "putInstance", hub: "h", instance }, { op: "appendHistory", hub: "h", instanceId: "i", from: 3, events: [] }]))
      .rejects.toThrow(/starts at 3, but the history has 0 events/);
    expect(await store.getInstance("h", "i")).toBeUndefined();
    await store.commit([{ op: "putInstance", hub: "h", instance }]);
    expect(await store.findInstanceIds("h", {}, 0)).toEqual(["i"]);
  } finally {
    await store.close();
  }
});
