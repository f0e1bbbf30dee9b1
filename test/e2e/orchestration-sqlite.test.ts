// End-to-end: the main orchestration features once more on the default SQLite store, where every
// change goes through the durable commit path.
import * as fs from "fs";
import * as path from "path";
import { TaskHubGrpcClient, terminateOptions } from "@microsoft/durabletask-js";
import { SQLITE_FILE } from "../../src/store";
import { DtsProcess } from "../helpers/dts-process";
import { H, S, completion, executionIdOf, json, newId, started, serveWithWorker } from "./orchestration-fixtures";

let dts: DtsProcess;
let c: TaskHubGrpcClient;

serveWithWorker([], (s) => ({ dts, c } = s));

describe("orchestrations on the sqlite store", () => {
  test("the server keeps its state in the sqlite file", () => {
    expect(fs.existsSync(path.join(dts.dataDir, SQLITE_FILE))).toBe(true);
  });

  test("activities in sequence and fanned out", async () => {
    const seq = await c.scheduleNewOrchestration("Sequence", ["X", "Y"]);
    const fan = await c.scheduleNewOrchestration("FanOut", [1, 2, 3, 4]);
    expect(json((await completion(c, seq)).serializedOutput)).toEqual(["Hello, X!", "Hello, Y!"]);
    const s = await completion(c, fan);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({ results: [2, 4, 6, 8], sum: 20 });
  });

  test("an uncaught activity failure fails the orchestration", async () => {
    const id = await c.scheduleNewOrchestration("UncaughtActivityFailure", "disk boom");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.FAILED);
    expect(s.failureDetails?.message).toBe("Activity task #1 failed: disk boom");
  });

  test("sub-orchestration results reach the parent", async () => {
    const id = newId("sqlite-parent");
    await c.scheduleNewOrchestration("Parent", 1, id);
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toEqual({ explicit: 2, defaultId: 4 });
  });

  test("timer, external event and whenAny", async () => {
    const timer = await c.scheduleNewOrchestration("Timer", 0.2);
    const race = await c.scheduleNewOrchestration("RaceEvent", 3600);
    await c.waitForOrchestrationStart(race, false, 30);
    await c.raiseOrchestrationEvent(race, "answer", "durable");
    expect(json((await completion(c, timer)).serializedOutput)).toBe("fired");
    expect(json((await completion(c, race)).serializedOutput)).toEqual({ by: "event", data: "durable" });
  });

  test("continue-as-new", async () => {
    const id = await c.scheduleNewOrchestration("GatedCounter", 0);
    await c.waitForOrchestrationStart(id, false, 30);
    const first = executionIdOf(await c.getOrchestrationHistory(id));
    await c.raiseOrchestrationEvent(id, "next");
    const s = await completion(c, id);
    expect(json(s.serializedOutput)).toBe("finished with 1");
    expect(executionIdOf(await c.getOrchestrationHistory(id))).not.toBe(first);
  });

  test("suspend, resume and recursive terminate", async () => {
    const waiter = await c.scheduleNewOrchestration("WaitEvent", "go");
    await c.waitForOrchestrationStart(waiter, false, 30);
    await c.suspendOrchestration(waiter);
    expect((await c.getOrchestrationState(waiter))?.runtimeStatus).toBe(S.SUSPENDED);
    await c.resumeOrchestration(waiter);
    await c.raiseOrchestrationEvent(waiter, "go", "went");
    expect(json((await completion(c, waiter)).serializedOutput)).toBe("went");

    const parent = newId("sqlite-terminate");
    await c.scheduleNewOrchestration("ParentOfWaiter", undefined, parent);
    await started(c, `${parent}-child`);
    await c.terminateOrchestration(parent, terminateOptions({ output: "gone", recursive: true }));
    expect((await completion(c, parent)).runtimeStatus).toBe(S.TERMINATED);
    expect((await completion(c, `${parent}-child`)).runtimeStatus).toBe(S.TERMINATED);
  });

  test("rewind of a parent and its failed sub-orchestration", async () => {
    const id = newId("sqlite-rewind");
    await c.scheduleNewOrchestration("RewindParent", `${id}-child`, id);
    expect((await completion(c, id)).runtimeStatus).toBe(S.FAILED);
    await c.rewindInstance(id, "again");
    const s = await completion(c, id);
    expect(s.runtimeStatus).toBe(S.COMPLETED);
    expect(json(s.serializedOutput)).toBe(`parent got ok ${id}-child`);
  });

  test("restart and purge", async () => {
    const key = newId("sqlite-restart");
    const id = await c.scheduleNewOrchestration("Restartable", { key, value: 3 }, key);
    expect((await completion(c, id)).runtimeStatus).toBe(S.COMPLETED);
    expect(await c.restartOrchestration(id)).toBe(id);
    expect(json((await completion(c, id)).serializedOutput)).toBe(6);
    expect((await c.purgeOrchestration(id))?.deletedInstanceCount).toBe(1);
    expect(await c.getOrchestrationState(id)).toBeUndefined();
    expect((await c.getOrchestrationHistory(id)).map((e) => e.type)).not.toContain(H.ExecutionStarted);
  });
});
