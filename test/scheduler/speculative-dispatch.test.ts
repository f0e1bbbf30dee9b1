// Speculative dispatch: the work a worker's completion creates goes to workers while that
// completion's commit is being written; the completion's answer, readers and waiters still wait for
// the commit, a refused commit revokes what went out early, and client requests never go early.
// Driven on the engine directly, with a store whose commits are held until the test lets them land.
import { pb } from "../../src/proto";
import { Scheduler, SchedulerOptions } from "../../src/scheduler/scheduler";
import { Hub } from "../../src/scheduler/hub";
import { WorkerConnection } from "../../src/scheduler/worker";
import { MemoryStore, StoreOp } from "../../src/store";

/** Commits land when the test says so (`hold`, then `land` or `refuse`); otherwise at once. */
class HeldStore extends MemoryStore {
  private held: { ops: StoreOp[]; resolve: () => void; reject: (err: Error) => void }[] = [];
  holding = false;

  commitAsync(ops: StoreOp[]): Promise<void> {
    if (!this.holding) {
      super.commit(ops);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.held.push({ ops, resolve, reject }));
  }

  get waiting(): number {
    return this.held.length;
  }

  land(): void {
    this.holding = false;
    for (const c of this.held.splice(0)) {
      super.commit(c.ops);
      c.resolve();
    }
  }

  /** The oldest held commit lands; later ones are still held. */
  landOne(): void {
    const c = this.held.shift()!;
    super.commit(c.ops);
    c.resolve();
  }

  refuse(): void {
    this.holding = false;
    for (const c of this.held.splice(0)) c.reject(new Error("disk full"));
  }
}

const COMPLETED = pb.OrchestrationStatus.ORCHESTRATION_STATUS_COMPLETED;
const str = (value: string) => ({ value });
const turn = () => new Promise((resolve) => setImmediate(resolve));

function setup(options: SchedulerOptions = {}, historyStreaming = false) {
  const store = new HeldStore();
  const scheduler = new Scheduler(store, options);
  const hub: Hub = scheduler.hub("default");
  const items: pb.IWorkItem[] = [];
  hub.connectWorker(new WorkerConnection("w", { send: (i) => items.push(i) > 0, end: () => {} }, { orchestrations: 10, activities: 10, entities: 10 }, Date.now(), historyStreaming));
  const take = (kind: "orchestratorRequest" | "activityRequest") => {
    const i = items.findIndex((x) => x[kind]);
    return i < 0 ? undefined : items.splice(i, 1)[0];
  };
  /** Settles (or not) within a few turns of the event loop, without waiting for more. */
  const settled = async (p: Promise<unknown>) => {
    let state = "pending";
    p.then(() => (state = "answered"), (err: Error) => (state = `refused: ${err.message}`));
    for (let i = 0; i < 5; i++) await turn();
    return state;
  };
  const history = async () => ((await hub.reads.getHistory("o")) ?? []).map((e) => Object.keys(e).find((k) => k !== "eventId" && k !== "timestamp"));
  return { scheduler, hub, store, items, take, settled, history };
}

test("a completion's activity is dispatched while its commit is written; its answer and readers wait for the commit", async () => {
  const { scheduler, hub, store, take, settled, history } = setup();
  await hub.clients.startInstance({ instanceId: "o", name: "Hello" });
  const first = take("orchestratorRequest")!;

  store.holding = true;
  const answered = hub.completions.orchestration({ instanceId: "o", completionToken: first.completionToken, actions: [{ id: 0, scheduleTask: { name: "Step", input: str("1") } }] });
  expect(store.waiting).toBe(0);
  const task = take("activityRequest");
  expect(task?.activityRequest?.name).toBe("Step");
  expect(await settled(answered)).toBe("pending");
  expect(store.waiting).toBe(1);
  // Readers see the store's state: no episode in the history yet.
  expect(await history()).toEqual([]);

  // The activity finishes before the episode's commit lands: the orchestration's next episode goes
  // out at once, built on the episode not yet durable; the result's answer waits for both commits.
  const result = hub.completions.activity({ completionToken: task!.completionToken, taskId: 0, result: str("2") });
  const second = take("orchestratorRequest")!;
  const kinds = (events: pb.IHistoryEvent[] | null | undefined) => events?.map((e) => Object.keys(e).find((k) => k !== "eventId" && k !== "timestamp"));
  expect(kinds(second.orchestratorRequest?.pastEvents)).toEqual(["orchestratorStarted", "executionStarted", "taskScheduled"]);
  expect(kinds(second.orchestratorRequest?.newEvents)).toEqual(["orchestratorStarted", "taskCompleted"]);
  expect(await settled(result)).toBe("pending");
  expect(await history()).toEqual([]);

  store.land();
  expect(await settled(answered)).toBe("answered");
  expect(await settled(result)).toBe("answered");
  expect(await history()).toEqual(["orchestratorStarted", "executionStarted", "taskScheduled"]);
  await hub.completions.orchestration({ instanceId: "o", completionToken: second.completionToken, actions: [{ id: 1, completeOrchestration: { orchestrationStatus: COMPLETED, result: str("2") } }] });
  expect((await hub.reads.getInstance("o"))?.status).toBe(COMPLETED);
  await scheduler.close();
});

test("an activity's result dispatches the orchestration's next episode before the result is durable", async () => {
  const { scheduler, hub, store, take, settled } = setup();
  await hub.clients.startInstance({ instanceId: "o", name: "Hello" });
  await hub.completions.orchestration({ instanceId: "o", completionToken: take("orchestratorRequest")!.completionToken, actions: [{ id: 0, scheduleTask: { name: "Step" } }] });
  const task = take("activityRequest")!;

  store.holding = true;
  const result = hub.completions.activity({ completionToken: task.completionToken, taskId: 0, result: str("2") });
  const next = take("orchestratorRequest");
  expect(next?.orchestratorRequest?.newEvents?.some((e) => e.taskCompleted?.result?.value === "2")).toBe(true);
  expect(await settled(result)).toBe("pending");
  expect((await hub.reads.getInstance("o"))?.status).not.toBe(COMPLETED);
  store.land();
  expect(await settled(result)).toBe("answered");
  await scheduler.close();
});

test("a refused commit revokes the work dispatched from it: its result is refused and the episode runs again", async () => {
  const { scheduler, hub, store, take, settled, history } = setup();
  await hub.clients.startInstance({ instanceId: "o", name: "Hello" });
  const first = take("orchestratorRequest")!;

  store.holding = true;
  const answered = hub.completions.orchestration({ instanceId: "o", completionToken: first.completionToken, actions: [{ id: 0, scheduleTask: { name: "Step" } }] });
  const task = take("activityRequest")!;
  expect(await settled(answered)).toBe("pending");
  store.refuse();
  expect(await settled(answered)).toMatch(/^refused: /);
  await expect(Promise.resolve().then(() => hub.completions.activity({ completionToken: task.completionToken, taskId: 0, result: str("2") }))).rejects.toThrow(/unknown or expired/);
  expect(await history()).toEqual([]);

  // What the store holds is dispatched again, and runs to the end.
  const again = take("orchestratorRequest")!;
  expect(again.completionToken).not.toBe(first.completionToken);
  await hub.completions.orchestration({ instanceId: "o", completionToken: again.completionToken, actions: [{ id: 0, scheduleTask: { name: "Step" } }] });
  await hub.completions.activity({ completionToken: take("activityRequest")!.completionToken, taskId: 0, result: str("3") });
  await hub.completions.orchestration({ instanceId: "o", completionToken: take("orchestratorRequest")!.completionToken, actions: [{ id: 1, completeOrchestration: { orchestrationStatus: COMPLETED, result: str("3") } }] });
  expect((await hub.reads.getInstance("o"))?.status).toBe(COMPLETED);
  await scheduler.close();
});

test("an episode whose history a worker would stream waits for the commit: the stream reads what is committed", async () => {
  const { scheduler, hub, store, take, settled } = setup({ historyStreamingThreshold: 2 }, true);
  await hub.clients.startInstance({ instanceId: "o", name: "Hello" });
  store.holding = true;
  const answered = hub.completions.orchestration({ instanceId: "o", completionToken: take("orchestratorRequest")!.completionToken, actions: [{ id: 0, scheduleTask: { name: "Step" } }] });
  const result = hub.completions.activity({ completionToken: take("activityRequest")!.completionToken, taskId: 0, result: str("2") });
  expect(await settled(answered)).toBe("pending");
  expect(take("orchestratorRequest")).toBeUndefined();
  store.land();
  expect(await settled(result)).toBe("answered");
  const next = take("orchestratorRequest")!;
  expect(next.orchestratorRequest?.requiresHistoryStreaming).toBe(true);
  expect((await hub.reads.getHistory("o"))?.length).toBe(3);
  await scheduler.close();
});

test("a finished instance leaves memory only once its finished record is committed", async () => {
  const { scheduler, hub, store, take, settled } = setup();
  await hub.clients.startInstance({ instanceId: "o", name: "Hello" });
  store.holding = true;
  const answered = hub.completions.orchestration({ instanceId: "o", completionToken: take("orchestratorRequest")!.completionToken, actions: [{ id: 0, scheduleTask: { name: "Step" } }] });
  expect(await settled(answered)).toBe("pending");
  // Ended by force while the episode's commit is written: the end commits after it.
  const ended = hub.clients.forceTerminate(["o"], "stop");
  store.landOne();
  expect(await settled(answered)).toBe("answered");
  expect(await settled(ended)).toBe("pending");
  const hot = () => hub.reads.hotState().instances.map((i) => i.rec.instanceId);
  expect(hot()).toEqual(["o"]);
  expect((await hub.reads.getInstance("o"))?.status).toBe(pb.OrchestrationStatus.ORCHESTRATION_STATUS_RUNNING);
  store.land();
  expect(await settled(ended)).toBe("answered");
  expect(hot()).toEqual([]);
  expect((await hub.reads.getInstance("o"))?.status).toBe(pb.OrchestrationStatus.ORCHESTRATION_STATUS_TERMINATED);
  await scheduler.close();
});

test("a client's request is not speculative: its work waits for its commit", async () => {
  const { scheduler, hub, store, take, settled } = setup();
  store.holding = true;
  const started = hub.clients.startInstance({ instanceId: "o", name: "Hello" });
  expect(await settled(started)).toBe("pending");
  expect(take("orchestratorRequest")).toBeUndefined();
  store.land();
  expect(await settled(started)).toBe("answered");
  const first = take("orchestratorRequest")!;
  await hub.completions.orchestration({ instanceId: "o", completionToken: first.completionToken, actions: [{ id: 0, createTimer: { fireAt: { seconds: 4_000_000_000 } } }] });

  store.holding = true;
  const raised = hub.clients.raiseEvent("o", "go", undefined);
  expect(await settled(raised)).toBe("pending");
  expect(take("orchestratorRequest")).toBeUndefined();
  store.land();
  expect(await settled(raised)).toBe("answered");
  expect(take("orchestratorRequest")?.orchestratorRequest?.newEvents?.some((e) => e.eventRaised?.name === "go")).toBe(true);
  await scheduler.close();
});

test("with speculativeDispatch off, a completion's work waits for its commit", async () => {
  const { scheduler, hub, store, take, settled } = setup({ speculativeDispatch: false });
  await hub.clients.startInstance({ instanceId: "o", name: "Hello" });
  const first = take("orchestratorRequest")!;
  store.holding = true;
  const answered = hub.completions.orchestration({ instanceId: "o", completionToken: first.completionToken, actions: [{ id: 0, scheduleTask: { name: "Step" } }] });
  expect(await settled(answered)).toBe("pending");
  expect(take("activityRequest")).toBeUndefined();
  store.land();
  expect(await settled(answered)).toBe("answered");
  expect(take("activityRequest")?.activityRequest?.name).toBe("Step");
  await scheduler.close();
});
