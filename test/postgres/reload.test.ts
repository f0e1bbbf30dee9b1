// A failed commit on PostgreSQL: the change is refused, its hub answers UNAVAILABLE while its state is
// read again from the database, and then serves what the database holds (nothing refused in it).
import { Scheduler } from "../../src/scheduler/scheduler";
import { PostgresStore } from "../../src/store/postgres-store";
import { StoreOp } from "../../src/store/store";
import { pollUntil } from "../helpers/poll";
import { PostgresServer, startPostgres } from "../helpers/postgres-server";

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(() => postgres?.stop());

test("a refused commit: UNAVAILABLE while the hub is reloaded, then memory equals the database", async () => {
  const store = await PostgresStore.open(await postgres.createDatabase("reload"));
  // The real store, with one commit made to fail on request (the database refusing it).
  let failNext = false;
  const faulty = Object.create(store) as PostgresStore;
  faulty.commitAsync = (ops: StoreOp[]) => {
    if (!failNext) return store.commitAsync(ops);
    failNext = false;
    return Promise.reject(new Error("injected: the database refused the transaction"));
  };
  const scheduler = await Scheduler.open(faulty, {});
  try {
    const hub = scheduler.hub("default");
    await hub.clients.startInstance({ instanceId: "kept", name: "N" });
    failNext = true;
    await expect(hub.clients.startInstance({ instanceId: "refused", name: "N" })).rejects.toThrow(/injected: the database refused the transaction/);
    expect(() => scheduler.hub("default")).toThrow(/Task hub 'default' is being reloaded from the store after a failed write; try again shortly/);
    const reloaded = await pollUntil(async () => { try { return scheduler.hub("default"); } catch { return undefined; } }, (h) => h !== undefined, "the hub to be reloaded");
    expect((await reloaded!.reads.getInstance("kept"))?.name).toBe("N");
    expect(await reloaded!.reads.getInstance("refused")).toBeUndefined();
    expect(reloaded!.reads.hotState().instances.map((i) => i.rec.instanceId)).toEqual(["kept"]);
    // And it takes changes again.
    await reloaded!.clients.startInstance({ instanceId: "after", name: "N" });
    expect((await store.getInstance("default", "after"))?.instanceId).toBe("after");
  } finally {
    await scheduler.close();
  }
});
