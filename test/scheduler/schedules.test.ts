// A schedule's occurrence on the engine directly: the instance it starts and the schedule's advance
// past it are one store transaction, so a commit that fails takes neither and the same occurrence
// starts after the hub is reloaded (a reload is not downtime: catch-up "skip" does not skip it).
import { Scheduler } from "../../src/scheduler/scheduler";
import { MemoryStore, StoreOp } from "../../src/store";
import { FaultyStore } from "../helpers/faulty-store";
import { pollUntil } from "../helpers/poll";

class RecordingStore extends MemoryStore {
  readonly batches: StoreOp[][] = [];
  commit(ops: StoreOp[]): void {
    super.commit(ops);
    this.batches.push(ops);
  }
}

const schedulers: Scheduler[] = [];
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.close();
});

test("an occurrence's instance and the schedule's move to the next occurrence are one store transaction", async () => {
  const store = new RecordingStore();
  const scheduler = new Scheduler(store);
  schedulers.push(scheduler);
  const hub = scheduler.hub("default");
  const created = await hub.schedules.create({ scheduleId: "tick", orchestrationName: "Tick", intervalMs: 1000, input: "7", catchUp: "once" });
  const first = created.nextRunAt!;
  const id = `tick@${new Date(first).toISOString()}`;
  await pollUntil(async () => store.getInstance("default", id), (r) => r !== undefined, `instance ${id}`, 10_000);
  const batch = store.batches.find((ops) => ops.some((op) => op.op === "putInstance" && op.instance.instanceId === id))!;
  expect(batch.find((op) => op.op === "putSchedule")).toMatchObject({ schedule: { scheduleId: "tick", lastRunAt: first, lastInstanceId: id, nextRunAt: first + 1000 } });
  expect(store.getInstance("default", id)).toMatchObject({ name: "Tick", input: "7", tags: { schedule: "tick" } });
  expect(hub.schedules.get("tick")).toMatchObject({ lastRunAt: first, nextRunAt: first + 1000 });
});

test("a failed commit of an occurrence takes neither part; after the reload the same occurrence starts (even with catch-up skip)", async () => {
  const store = new FaultyStore(new MemoryStore());
  const scheduler = new Scheduler(store);
  schedulers.push(scheduler);
  const hub = scheduler.hub("default");
  const created = await hub.schedules.create({ scheduleId: "tock", orchestrationName: "Tock", intervalMs: 2000, catchUp: "skip" });
  const first = created.nextRunAt!;
  const logged = jest.spyOn(process.stderr, "write").mockImplementation(() => true); // the engine logs to stderr (src/log)
  store.failNext = 1;
  await pollUntil(async () => store.injected.failed, (n) => n === 1, "the occurrence's commit to fail", 10_000);
  expect(logged.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(/a commit failed .* reloading task hub\(s\) default from the store/);
  logged.mockRestore();
  const id = `tock@${new Date(first).toISOString()}`;
  const rec = await pollUntil(async () => store.getInstance("default", id), (r) => r !== undefined, `instance ${id} after the reload`, 10_000);
  expect(rec?.name).toBe("Tock");
  expect(scheduler.hub("default").schedules.get("tock")).toMatchObject({ lastRunAt: first, nextRunAt: first + 2000 });
  expect(store.load("default").schedules).toEqual([expect.objectContaining({ lastRunAt: first, lastInstanceId: id, nextRunAt: first + 2000 })]);
});
