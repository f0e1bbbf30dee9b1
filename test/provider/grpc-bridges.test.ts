// Unit tests of the durable-functions 4 bridges with a stand-in app whose triggers return what a
// test chooses: the request arrives as base64 protobuf, a valid answer completes through core/, and
// every kind of bad answer fails the work item with the reason. Also: which protocol an app speaks.
import { event, str } from "../../src/core/events";
import { Status } from "../../src/core/model";
import { FunctionApp, RegisteredFunction } from "../../src/provider/function-app";
import { runGrpcEntity } from "../../src/provider/grpc-entity-bridge";
import { runGrpcOrchestration } from "../../src/provider/grpc-orchestration-bridge";
import { appProtocol, MixedDurableProtocolsError } from "../../src/provider/protocol";
import { pb } from "../../src/proto";

function fn(name: string, type: string, grpc = true): RegisteredFunction {
  return { name, triggerType: type, triggerBindingName: "t", bindings: { t: { name: "t", type, direction: "in", ...(grpc ? { durableRequiresGrpc: true } : {}) } } };
}

/** An app whose every trigger hands its input to `answer` and returns what it returns. */
function standIn(answer: (input: string) => unknown, functions = [fn("Orch", "orchestrationTrigger"), fn("Thing", "entityTrigger")]): FunctionApp & { inputs: string[] } {
  const inputs: string[] = [];
  return {
    dir: "/app", inputs, functions: new Map(functions.map((f) => [f.name, f])),
    invoke: async (_name, req) => {
      const input = JSON.parse(String(req.inputData.t.json));
      inputs.push(input);
      const a = answer(input);
      return { returnValue: a === undefined ? undefined : { string: a }, outputs: {} };
    },
    close: async () => undefined,
  };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const started = event(1, { executionStarted: { name: "Orch", orchestrationInstance: { instanceId: "i1", executionId: str("e1") } } });
const item = (newEvents: pb.IHistoryEvent[] = [started]) => ({ completionToken: "tok", orchestratorRequest: { instanceId: "i1", executionId: str("e1"), pastEvents: [], newEvents } });
const completing = (instanceId: string) => b64(pb.OrchestratorResponse.encode({
  instanceId, customStatus: str('"cs"'),
  actions: [{ id: 0, completeOrchestration: { orchestrationStatus: Status.ORCHESTRATION_STATUS_COMPLETED, result: str('"done"') } }],
}).finish());

test("the orchestrator gets the OrchestratorRequest as base64 protobuf; its response's actions complete the episode", async () => {
  const app = standIn(() => completing("i1"));
  const r = await runGrpcOrchestration(app, item());
  expect(pb.OrchestratorRequest.decode(Buffer.from(app.inputs[0], "base64"))).toMatchObject({ instanceId: "i1", newEvents: [{ executionStarted: { name: "Orch" } }] });
  expect(r.outcome).toBe("completed");
  expect(r.request).toMatchObject({ completionToken: "tok", runtimeStatus: Status.ORCHESTRATION_STATUS_COMPLETED, customStatus: { value: '"cs"' } });
  expect(r.request.newHistory?.find((e) => e.executionCompleted)?.executionCompleted?.result?.value).toBe('"done"');
});

test("termination is answered by the host without invoking the orchestrator", async () => {
  const app = standIn(() => completing("i1"));
  const r = await runGrpcOrchestration(app, item([started, event(2, { executionTerminated: { input: str('"stop"') } })]));
  expect(r.outcome).toBe("terminated");
  expect(app.inputs).toHaveLength(0);
});

test.each([
  ["not base64", () => "*not*base64*", /expected a base64 OrchestratorResponse, got a string that is not base64/],
  ["not a message", () => b64(Buffer.from([0xff, 0xff, 0xff])), /the base64 does not decode as OrchestratorResponse/],
  ["for another instance", () => completing("i2"), /it is an OrchestratorResponse for instance 'i2', not 'i1'/],
  ["no value", () => undefined, /expected a base64 OrchestratorResponse, got no value/],
])("an answer that is %s fails the orchestration, saying so", async (_what, answer, reason) => {
  const r = await runGrpcOrchestration(standIn(answer), item());
  expect(r.outcome).toBe("failed");
  const failure = r.request.newHistory?.find((e) => e.executionCompleted)?.executionCompleted?.failureDetails;
  expect(failure).toMatchObject({ errorType: "InvalidWorkerResponse", isNonRetriable: true });
  expect(failure?.errorMessage).toMatch(reason);
});

const entityItem = () => ({
  completionToken: "etok",
  entityRequestV2: {
    instanceId: "@thing@k", executionId: "x", entityState: str("1"),
    operationRequests: [
      event(1, { entityOperationSignaled: { requestId: "r1", operation: "add", input: str("2") } }),
      event(2, { entityOperationCalled: { requestId: "r2", operation: "get", parentInstanceId: str("caller") } }),
    ],
  },
});

test("an entity batch goes as an EntityBatchRequest; its EntityBatchResult's state and results are applied", async () => {
  const app = standIn(() => b64(pb.EntityBatchResult.encode({ entityState: str("3"), results: [{ success: {} }, { success: { result: str("3") } }] }).finish()));
  const r = await runGrpcEntity(app, entityItem());
  expect(pb.EntityBatchRequest.decode(Buffer.from(app.inputs[0], "base64"))).toMatchObject({
    instanceId: "@thing@k", entityState: { value: "1" }, operations: [{ operation: "add", requestId: "r1", input: { value: "2" } }, { operation: "get", requestId: "r2" }],
  });
  expect(r.request.entityState?.value).toBe("3");
  expect(r.request.messages).toEqual([expect.objectContaining({ instance: expect.objectContaining({ instanceId: "caller" }), event: expect.objectContaining({ entityOperationCompleted: { requestId: "r2", output: { value: "3" } } }) })]);
});

test("an entity answer with the wrong number of results fails every operation, the state kept", async () => {
  const r = await runGrpcEntity(standIn(() => b64(pb.EntityBatchResult.encode({ entityState: str("9"), results: [{ success: {} }] }).finish())), entityItem());
  expect(r.failedOperations).toBe(2);
  expect(r.request.entityState?.value).toBe("1");
  expect(r.notes[0]).toMatch(/Entity function 'Thing' returned an invalid result: it has 1 result\(s\) for 2 operation\(s\)/);
});

test("an app speaks one protocol: grpc when its durable bindings say durableRequiresGrpc, json otherwise; a mix is refused", () => {
  expect(appProtocol(standIn(() => ""))).toBe("grpc");
  expect(appProtocol(standIn(() => "", [fn("A", "activityTrigger", false)]))).toBe("json");
  expect(appProtocol(standIn(() => "", [fn("H", "httpTrigger", false)]))).toBeUndefined();
  expect(() => appProtocol(standIn(() => "", [fn("A", "activityTrigger", false), fn("B", "orchestrationTrigger")])))
    .toThrow(MixedDurableProtocolsError);
});
