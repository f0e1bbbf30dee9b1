// Durable functions that answer what durable-functions 4 never would, registered the way it
// registers its own (generic triggers with durableRequiresGrpc), for the host's bad-payload tests:
// each work item they get must fail with a clear reason, and nothing else may suffer.
const { app, trigger } = require("@azure/functions");
const df = require("durable-functions");

const grpcTrigger = (type) => trigger.generic({ type, durableRequiresGrpc: true });

/** A serialized OrchestratorResponse holding only field 1, instanceId. */
function responseFor(instanceId) {
  const id = Buffer.from(instanceId, "utf8");
  return Buffer.concat([Buffer.from([0x0a, id.length]), id]).toString("base64");
}

app.generic("NotBase64", { trigger: grpcTrigger("orchestrationTrigger"), handler: () => "this is not base64!" });
app.generic("NotAResponse", { trigger: grpcTrigger("orchestrationTrigger"), handler: () => Buffer.from([0xff, 0xff, 0xff, 0xff]).toString("base64") });
app.generic("OtherInstance", { trigger: grpcTrigger("orchestrationTrigger"), handler: () => responseFor("someone-else") });
app.generic("NoAnswer", { trigger: grpcTrigger("orchestrationTrigger"), handler: () => undefined });
app.generic("BadEntity", { trigger: grpcTrigger("entityTrigger"), handler: () => "%%% not a batch result %%%" });

// Calls BadEntity and reports how the call failed.
df.app.orchestration("CallBadEntity", function* (context) {
  try {
    yield context.df.callEntity(new df.EntityId("BadEntity", "k"), "anything");
    return "no error";
  } catch (err) {
    return err.message;
  }
});
