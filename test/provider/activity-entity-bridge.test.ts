// Unit tests of the activity and entity bridges with durable-functions' real handlers: inputs and
// results as JSON, failures as failure details, and entity batches through core's applyEntityBatch.
import * as df from "durable-functions";
import { event, str } from "../../src/core/events";
import { runActivity } from "../../src/provider/activity-bridge";
import { runEntity } from "../../src/provider/entity-bridge";
import { WorkItemError } from "../../src/provider/functions";
import { pb } from "../../src/proto";
import { TestApp } from "./harness";

/* eslint-disable @typescript-eslint/no-explicit-any */
const app = new TestApp()
  .activity("Hello", (name: any, ctx) => `Hello, ${typeof name === "object" ? JSON.stringify(name) : name} from ${ctx.triggerMetadata?.instanceId}!`)
  .activity("Nothing", () => undefined)
  .activity("Number", (n: number) => n * 2)
  .activity("Boom", () => {
    throw new RangeError("out of range");
  })
  .entity("Counter", (ctx: any) => {
    const state: number = ctx.df.getState(() => 0);
    switch (ctx.df.operationName) {
      case "add":
        ctx.df.setState(state + ctx.df.getInput());
        ctx.df.return(state + ctx.df.getInput());
        break;
      case "get":
        ctx.df.return(state);
        break;
      case "relay":
        ctx.df.signalEntity(new df.EntityId("Counter", "other"), "add", 1);
        break;
      case "delete":
        ctx.df.destructOnExit();
        break;
      case "fail":
        throw new Error("counter says no");
    }
  });

const activity = (name: string, input?: string, taskId = 3) => ({
  completionToken: "tok", activityRequest: { name, input: str(input), taskId, orchestrationInstance: { instanceId: "123", executionId: str("x") } },
});

test("an activity gets its deserialized input and the instance id; its return value becomes the JSON result", async () => {
  const r = await runActivity(app, activity("Hello", '"Tokyo"'));
  expect(r.succeeded).toBe(true);
  expect(r.request).toMatchObject({ completionToken: "tok", responseEvent: { taskCompleted: { taskScheduledId: 3, result: { value: '"Hello, Tokyo from 123!"' } } } });
  expect((await runActivity(app, activity("Hello", '{"a":[1]}'))).request.responseEvent!.taskCompleted!.result!.value).toBe('"Hello, {\\"a\\":[1]} from 123!"');
  expect((await runActivity(app, activity("Number", "21"))).request.responseEvent!.taskCompleted!.result!.value).toBe("42");
  expect((await runActivity(app, activity("Nothing"))).request.responseEvent!.taskCompleted!.result).toBeUndefined();
  // Function names are case-insensitive.
  expect((await runActivity(app, activity("hello", '"x"'))).succeeded).toBe(true);
});

test("a throwing activity completes with TaskFailed and its error type, message and stack", async () => {
  const r = await runActivity(app, activity("Boom"));
  expect(r.succeeded).toBe(false);
  const f = r.request.responseEvent!.taskFailed!;
  expect(f.taskScheduledId).toBe(3);
  expect(f.failureDetails).toMatchObject({ errorType: "RangeError", errorMessage: "out of range" });
  expect(f.failureDetails!.stackTrace!.value).toMatch(/RangeError: out of range/);
  expect(r.error).toBe("RangeError: out of range");
});

test("an unknown activity fails its task (not retriable) naming the activities the app has", async () => {
  const f = (await runActivity(app, activity("Missing"))).request.responseEvent!.taskFailed!.failureDetails!;
  expect(f).toMatchObject({ errorType: "FunctionNotFound", isNonRetriable: true });
  expect(f.errorMessage).toBe("The activity function 'Missing' does not exist in this app (its activity functions: Hello, Nothing, Number, Boom)");
});

function entityItem(state: string | undefined, ops: pb.IHistoryEvent[]) {
  return { completionToken: "etok", entityRequestV2: { instanceId: "@counter@k", executionId: "", entityState: str(state), operationRequests: ops } };
}
const call = (op: string, input: string | undefined, requestId: string) => event(0, {
  entityOperationCalled: { requestId, operation: op, input: str(input), parentInstanceId: str("orch"), parentExecutionId: str("ox"), targetInstanceId: str("@counter@k") },
});
const signal = (op: string, input: string | undefined, requestId: string) => event(0, { entityOperationSignaled: { requestId, operation: op, input: str(input), targetInstanceId: str("@counter@k") } });

test("an entity batch: new state, a response per call to its orchestration, nothing for signals", async () => {
  const r = await runEntity(app, entityItem("5", [signal("add", "1", "s1"), call("add", "10", "c1"), call("get", undefined, "c2")]));
  expect(r.operations).toBe(3);
  expect(r.request).toMatchObject({ completionToken: "etok", instanceId: "@counter@k", numberOperationsExecuted: 3, entityState: { value: "16" } });
  const msgs = r.request.messages!.map((m) => ({ to: m.instance!.instanceId, execution: m.instance!.executionId?.value, done: m.event!.entityOperationCompleted }));
  expect(msgs).toEqual([
    { to: "orch", execution: "ox", done: expect.objectContaining({ requestId: "c1", output: { value: "16" } }) },
    { to: "orch", execution: "ox", done: expect.objectContaining({ requestId: "c2", output: { value: "16" } }) },
  ]);
});

test("a new entity starts from its initializer; a failing operation answers its caller with a failure", async () => {
  const r = await runEntity(app, entityItem(undefined, [call("add", "2", "c1"), call("fail", undefined, "c2")]));
  expect(r.request.entityState!.value).toBe("2");
  expect(r.failedOperations).toBe(1);
  const failed = r.request.messages![1].event!.entityOperationFailed!;
  expect(failed.requestId).toBe("c2");
  expect(failed.failureDetails!.errorMessage).toMatch(/counter says no|The entity operation 'fail' failed/);
});

test("signals to other entities become messages; deleting the entity drops its state", async () => {
  const r = await runEntity(app, entityItem("1", [signal("relay", undefined, "s1")]));
  const m = r.request.messages![0];
  expect(m.instance!.instanceId).toBe("@counter@other");
  expect(m.event!.entityOperationSignaled).toMatchObject({ operation: "add", input: { value: "1" }, targetInstanceId: { value: "@counter@other" } });
  const gone = await runEntity(app, entityItem("1", [signal("delete", undefined, "s2")]));
  expect(gone.request.entityState).toBeUndefined();
});

test("an unknown entity fails the calls and keeps the state; a malformed id is not processed", async () => {
  const item = { completionToken: "t", entityRequestV2: { instanceId: "@nobody@k", entityState: str("7"), operationRequests: [call("get", undefined, "c1")] } };
  const r = await runEntity(app, item);
  expect(r.request.entityState!.value).toBe("7");
  expect(r.request.messages![0].event!.entityOperationFailed!.failureDetails).toMatchObject({ errorType: "FunctionNotFound" });
  await expect(runEntity(app, { completionToken: "t", entityRequestV2: { instanceId: "nope" } })).rejects.toThrow(WorkItemError);
});
