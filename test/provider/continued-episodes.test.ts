// When the host goes on to the next episode and when it sends what it has (runEpisodes), with the
// orchestrator and the inline runs replaced by scripted ones; the real scheduler and app are in
// completion-stream.test.ts.
import { event, orchestratorStarted, str } from "../../src/core/events";
import { Status } from "../../src/core/model";
import { runEpisodes } from "../../src/provider/continued-episodes";
import { FoldedEpisode } from "../../src/provider/inline-activities";
import { OrchestrationResult } from "../../src/provider/orchestration-bridge";
import { pb } from "../../src/proto";

type Request = pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest;
const NOW = 1_700_000_000_000;
const start = event(NOW, { executionStarted: { name: "Seq", orchestrationInstance: { instanceId: "i", executionId: str("e") } } });
const item: pb.IOrchestratorRequest = { instanceId: "i", pastEvents: [], newEvents: [orchestratorStarted(NOW), start] };

/** Episode n of work item `w` schedules task n (or completes, at the last), as the orchestrator would. */
function episode(n: number, last: number, w: pb.IOrchestratorRequest = item): OrchestrationResult {
  const ends = n === last;
  const fresh = w.newEvents ?? [];
  const request: Request = {
    completionToken: "t", instance: { instanceId: "i" },
    runtimeStatus: ends ? Status.ORCHESTRATION_STATUS_COMPLETED : Status.ORCHESTRATION_STATUS_RUNNING,
    newHistory: [...fresh, ends ? event(NOW, { executionCompleted: { orchestrationStatus: Status.ORCHESTRATION_STATUS_COMPLETED } }) : event(NOW, { taskScheduled: { name: "A" } }, n)],
    newTasks: ends ? [] : [event(NOW, { taskScheduled: { name: "A" } }, n)],
    newTimers: [], newMessages: [],
  };
  return { request, name: "Seq", outcome: ends ? "completed" : "running", notes: [] };
}

/** Runs every new task inline, or none when `inline` says no. */
function folder(inline: (taskId: number) => boolean, result = '"r"') {
  return async (request: Request): Promise<FoldedEpisode> => {
    const tasks = request.newTasks ?? [];
    if (tasks.length === 0 || !tasks.every((t) => inline(t.eventId ?? 0))) return { request, ran: [], outlived: 0 };
    const responses = tasks.map((t) => event(NOW, { taskCompleted: { taskScheduledId: t.eventId, result: str(result) } }));
    return {
      request: { ...request, newTasks: [], newMessages: responses.map((e) => ({ instance: { instanceId: "i" }, event: e })) },
      ran: responses.map((e, k) => ({ request: { name: "A", taskId: tasks[k].eventId }, result: { request: { completionToken: "", responseEvent: e }, name: "A", succeeded: true }, ms: 1 })),
      outlived: 0,
    };
  };
}

describe("runEpisodes", () => {
  const runner = (last: number) => {
    const items: pb.IOrchestratorRequest[] = [];
    return { items, run: async (w: pb.IOrchestratorRequest) => (items.push(w), episode(items.length, last, w)) };
  };

  test("goes on while every activity ran inline, and sends all the episodes as one completion", async () => {
    const r = runner(3);
    const done = await runEpisodes(item, episode(0, 3), { fold: folder(() => true), run: r.run, limit: 1000, budgetMs: 1000 });
    expect(done.episodes.map((e) => e.result.outcome)).toEqual(["running", "running", "running", "completed"]);
    expect(done.request.runtimeStatus).toBe(Status.ORCHESTRATION_STATUS_COMPLETED);
    // Each continued episode's work item carries the results of the one before as its new events.
    expect(r.items.map((w) => w.newEvents!.slice(1).map((e) => e.taskCompleted?.taskScheduledId))).toEqual([[0], [1], [2]]);
    // ... and the history so far: the first episode's three events, then three for each continued one.
    expect(r.items[2].pastEvents).toHaveLength(3 + 3 + 3);
    // No results as messages: they are in the history, after the TaskScheduled they answer.
    expect(done.request.newMessages).toEqual([]);
    expect(done.request.newTasks).toEqual([]);
    expect(done.request.newHistory!.filter((e) => e.taskCompleted)).toHaveLength(3);
    expect(done.stopped).toBeUndefined();
  });

  test("a scheduler that does not take continued episodes gets the first, its results as messages", async () => {
    const r = runner(3);
    const done = await runEpisodes(item, episode(0, 3), { fold: folder(() => true), run: r.run, limit: undefined, budgetMs: 1000 });
    expect(r.items).toHaveLength(0);
    expect(done.request.newMessages!.map((m) => m.event!.taskCompleted!.taskScheduledId)).toEqual([0]);
  });

  test("stops at an episode whose activities are left to the scheduler; those stay in newTasks", async () => {
    const r = runner(5);
    const done = await runEpisodes(item, episode(0, 5), { fold: folder((id) => id < 2), run: r.run, limit: 1000, budgetMs: 1000 });
    expect(done.episodes).toHaveLength(3);
    expect(done.request.newTasks!.map((t) => t.eventId)).toEqual([2]);
    expect(done.request.runtimeStatus).toBe(Status.ORCHESTRATION_STATUS_RUNNING);
  });

  test("stops once the results exceed the payload limit, or the wait is spent: their last results go as messages", async () => {
    const r = runner(5);
    const big = await runEpisodes(item, episode(0, 5), { fold: folder(() => true, '"0123456789"'), run: r.run, limit: 25, budgetMs: 1000 });
    expect(big.episodes).toHaveLength(3); // 12 bytes, then 24, then 36 > 25
    expect(big.request.newMessages!.map((m) => m.event!.taskCompleted!.taskScheduledId)).toEqual([2]);

    let clock = 0;
    const slow = await runEpisodes(item, episode(0, 5), { fold: folder(() => true), run: runner(5).run, limit: 1000, budgetMs: 10, now: () => (clock += 4) });
    expect(slow.episodes.length).toBeLessThan(5);
    expect(slow.request.newMessages).toHaveLength(1);
  });

  test("a continued episode whose history would pass the scheduler's limit is left out, unless it ends the orchestration", async () => {
    // The first episode writes three events and each continued one three more: 3, 6, 9, 12, ...
    const r = runner(5);
    const capped = await runEpisodes(item, episode(0, 5), { fold: folder(() => true), run: r.run, limit: 1000, historyLimit: 10, budgetMs: 1000 });
    expect(capped.stopped).toBe("its history would have 12 events, past the scheduler's limit of 10");
    expect(capped.episodes).toHaveLength(3);
    expect(capped.request.newHistory).toHaveLength(9);
    expect(capped.request.newMessages!.map((m) => m.event!.taskCompleted!.taskScheduledId)).toEqual([2]);

    // The last episode may pass it: the scheduler takes a history that ends the orchestration.
    const ends = await runEpisodes(item, episode(0, 3), { fold: folder(() => true), run: runner(3).run, limit: 1000, historyLimit: 10, budgetMs: 1000 });
    expect(ends.stopped).toBeUndefined();
    expect(ends.request.newHistory).toHaveLength(12);
    expect(ends.request.runtimeStatus).toBe(Status.ORCHESTRATION_STATUS_COMPLETED);
  });

  test("a continued episode the host cannot run ends the completion before it, the results for it as messages", async () => {
    let calls = 0;
    const done = await runEpisodes(item, episode(0, 5), {
      fold: folder(() => true), limit: 1000, budgetMs: 1000,
      run: async (w) => {
        if (++calls === 2) throw new Error("the library failed");
        return episode(calls, 5, w);
      },
    });
    expect(done.stopped).toBe("the library failed");
    expect(done.episodes).toHaveLength(2);
    expect(done.request.newMessages!.map((m) => m.event!.taskCompleted!.taskScheduledId)).toEqual([1]);
    expect(done.request.newHistory!.filter((e) => e.taskCompleted).map((e) => e.taskCompleted!.taskScheduledId)).toEqual([0]);
  });
});
