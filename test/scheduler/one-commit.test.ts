// One operation, one commit: every client call and every work-item completion is one store
// transaction, including the entity lock steps it makes possible (grants, releases, emptied
// entities forgotten). Driven on the engine directly, with a store that counts its transactions.
import { pb } from "../../src/proto";
import { Scheduler } from "../../src/scheduler/scheduler";
import { Hub } from "../../src/scheduler/hub";
import { WorkerConnection } from "../../src/scheduler/worker";
import { MemoryStore, StoreOp } from "../../src/store";

class CountingStore extends MemoryStore {
  transactions = 0;
  commit(ops: StoreOp[]): void {
    this.transactions++;
    super.commit(ops);
  }
}

const COMPLETED = pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED;
const str = (value: string) => ({ value });

function setup() {
  const store = new CountingStore();
  const scheduler = new Scheduler(store);
  const hub: Hub = scheduler.hub("default");
  const items: pb.IWorkItem[] = [];
  hub.connectWorker(new WorkerConnection("w", { send: (i) => items.push(i) > 0, end: () => {} }, { orchestrations: 10, activities: 10, entities: 10 }));
  /** Store transactions the operation took, once everything it set off is written. */
  const transactions = async (operation: () => Promise<unknown>) => {
    await scheduler.committer.flush();
    const before = store.transactions;
    await operation();
    await scheduler.committer.flush();
    return store.transactions - before;
  };
  const take = (kind: "orchestratorRequest" | "activityRequest" | "entityRequestV2") => {
    const i = items.findIndex((x) => x[kind]);
    if (i < 0) throw new Error(`no ${kind} work item was dispatched`);
    return items.splice(i, 1)[0];
  };
  return { scheduler, hub, transactions, take };
}

test("an entity call inside a critical section: each step is one store transaction", async () => {
  const { scheduler, hub, transactions, take } = setup();
  const [a, b] = ["@account@a", "@account@b"];
  const episode = (actions: pb.IOrchestratorAction[]) => {
    const item = take("orchestratorRequest");
    return hub.completions.orchestration({ instanceId: "transfer", completionToken: item.completionToken, actions });
  };

  expect(await transactions(() => hub.clients.startInstance({ instanceId: "transfer", name: "Transfer" }))).toBe(1);

  // The lock request, both grants and the grant message to the orchestration: one change.
  const lock = { criticalSectionId: "cs", lockSet: [a, b], position: 0, parentInstanceId: str("transfer") };
  expect(await transactions(() => episode([{ id: 0, sendEntityMessage: { entityLockRequested: lock } }]))).toBe(1);
  expect([hub.entities.get(a)?.data.lockedBy, hub.entities.get(b)?.data.lockedBy]).toEqual(["transfer", "transfer"]);

  const call = { requestId: "r1", operation: "add", input: str("5"), parentInstanceId: str("transfer"), targetInstanceId: str(a) };
  expect(await transactions(() => episode([{ id: 1, sendEntityMessage: { entityOperationCalled: call } }]))).toBe(1);

  const batch = take("entityRequestV2");
  expect(await transactions(() => hub.entities.complete({ completionToken: batch.completionToken, entityState: str("5"), results: [{ success: { result: str("5") } }] }))).toBe(1);

  // Both releases, the orchestration's end, and b (left with no state) forgotten: one change.
  const unlock = (target: string) => ({ sendEntityMessage: { entityUnlockSent: { criticalSectionId: "cs", parentInstanceId: str("transfer"), targetInstanceId: str(target) } } });
  expect(await transactions(() => episode([
    { id: 2, ...unlock(a) }, { id: 3, ...unlock(b) },
    { id: 4, completeOrchestration: { orchestrationStatus: COMPLETED, result: str("done") } },
  ]))).toBe(1);
  expect((await hub.reads.getInstance("transfer"))?.status).toBe(COMPLETED);
  expect(hub.entities.get(a)?.data).toEqual({ state: "5" });
  expect(hub.entities.get(b)).toBeUndefined();

  // Client calls: a signal, and the purge of the finished orchestration.
  expect(await transactions(() => hub.entities.signal({ instanceId: a, name: "add", input: str("1") }))).toBe(1);
  expect(await transactions(() => hub.clients.purge(["transfer"], false, false))).toBe(1);
  await scheduler.close();
});

test("orchestration operations and completions: each is one store transaction", async () => {
  const { scheduler, hub, transactions, take } = setup();
  expect(await transactions(() => hub.clients.startInstance({ instanceId: "o", name: "Work" }))).toBe(1);
  const first = take("orchestratorRequest");
  expect(await transactions(() => hub.completions.orchestration({
    instanceId: "o", completionToken: first.completionToken, actions: [{ id: 0, scheduleTask: { name: "Step", input: str("1") } }],
  }))).toBe(1);
  const task = take("activityRequest");
  expect(await transactions(() => hub.completions.activity({ completionToken: task.completionToken, taskId: 0, result: str("2") }))).toBe(1);
  expect(await transactions(() => hub.clients.raiseEvent("o", "go", "3"))).toBe(1);
  expect(await transactions(() => hub.clients.suspend("o", "pause"))).toBe(1);
  expect(await transactions(() => hub.clients.resume("o", "go on"))).toBe(1);
  expect(await transactions(() => hub.clients.terminate("o", "enough", false))).toBe(1);
  await scheduler.close();
});
