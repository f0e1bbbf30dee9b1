// Every operation of the durable client over HTTP, for the tests: POST /api/client/{op} with a JSON
// body of arguments answers the operation's result as JSON (errors: 500 with the message).
const df = require("durable-functions");

const ops = {
  start: (c, a) => c.startNew(a.name, { input: a.input, instanceId: a.instanceId, version: a.version, dedupeStatuses: a.dedupeStatuses }),
  status: (c, a) => c.getStatus(a.id, { showHistory: a.showHistory, showHistoryOutput: a.showHistoryOutput, showInput: a.showInput }),
  query: async (c, a) => {
    const pages = c.getAllInstances({
      instanceIdPrefix: a.prefix, statuses: a.statuses, createdFrom: a.createdFrom ? new Date(a.createdFrom) : undefined, fetchInputsAndOutputs: !!a.withOutput,
    }).asPages(a.continuationToken, a.pageSize);
    for await (const page of pages) {
      return {
        continuationToken: page.continuationToken,
        instances: page.values.map((s) => ({ id: s.instanceId, name: s.name, status: s.runtimeStatus, outputLength: s.serializedOutput ? s.serializedOutput.length : undefined })),
      };
    }
    return { instances: [] };
  },
  statusBy: async (c, a) => (await c.getStatusBy({ runtimeStatus: a.runtimeStatus })).map((s) => ({ id: s.instanceId, runtimeStatus: s.runtimeStatus })),
  raiseEvent: (c, a) => c.raiseEvent(a.id, a.event, a.data),
  terminate: (c, a) => c.terminate(a.id, a.reason),
  suspend: (c, a) => c.suspend(a.id, a.reason),
  resume: (c, a) => c.resume(a.id, a.reason),
  rewind: (c, a) => c.rewind(a.id, a.reason),
  restart: (c, a) => c.restart(a.id, a.newId),
  purge: (c, a) => c.purgeInstanceHistory(a.id),
  purgeBy: (c, a) => c.purgeInstanceHistoryBy({ createdTimeFrom: new Date(a.createdFrom), runtimeStatus: a.runtimeStatus }),
  signal: (c, a) => c.signalEntity(new df.EntityId(a.name, a.key), a.op, a.input),
  readEntity: (c, a) => c.readEntityState(new df.EntityId(a.name, a.key)),
  queryEntities: async (c, a) => {
    const out = [];
    for await (const e of c.getEntities({ instanceIdStartsWith: a.prefix, includeState: true })) out.push({ id: e.id.toString(), state: e.state });
    return out;
  },
  cleanEntities: (c) => c.cleanEntityStorage({ removeEmptyEntities: true, releaseOrphanedLocks: true }),
  // The 202 check-status response of an existing instance, as a starter would return it.
  checkStatus: (c, a, request) => c.createCheckStatusResponse(request, a.id),
};

df.app.client.http("ClientOps", {
  route: "client/{op}",
  methods: ["POST"],
  handler: async (request, client) => {
    const op = ops[request.params.op];
    if (!op) return { status: 404, jsonBody: { error: `no client op '${request.params.op}'` } };
    const text = await request.text();
    try {
      const result = await op(client, text ? JSON.parse(text) : {}, request);
      if (result && typeof result === "object" && typeof result.status === "number" && result.headers) return result;
      return { status: 200, jsonBody: { result: result === undefined ? null : result } };
    } catch (err) {
      return { status: 500, jsonBody: { error: err.message, code: err.code } };
    }
  },
});
