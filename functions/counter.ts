// A durable entity: a counter with add (input: the amount, 1 by default), reset, get and delete.
// Signal it through the management API (POST /runtime/webhooks/durabletask/entities/Counter/{key}?op=add)
// or through the HTTP functions below, which use the durable client:
//   POST /api/counters/{key}/add   (body: the amount)     GET /api/counters/{key}
import * as df from "durable-functions";
import { DurableClient, EntityContext } from "durable-functions";
import { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";

df.app.entity("Counter", (context: EntityContext<number>) => {
  const value = context.df.getState(() => 0) ?? 0;
  switch (context.df.operationName) {
    case "add":
      context.df.setState(value + Number(context.df.getInput() ?? 1));
      break;
    case "reset":
      context.df.setState(0);
      break;
    case "get":
      context.df.return(value);
      break;
    case "delete":
      context.df.destructOnExit();
      break;
  }
});

df.app.client.http("CounterApi", {
  route: "counters/{key}/{operation?}",
  methods: ["GET", "POST"],
  handler: async (request: HttpRequest, client: DurableClient, _context: InvocationContext): Promise<HttpResponseInit> => {
    const key = request.params.key;
    const entityId = new df.EntityId("Counter", key);
    if (request.method === "GET") {
      const state = await client.readEntityState<number>(entityId);
      return state.entityExists ? { jsonBody: { key, value: state.entityState } } : { status: 404, jsonBody: { error: `No counter '${key}'` } };
    }
    const operation = request.params.operation ?? "add";
    const text = await request.text();
    await client.signalEntity(entityId, operation, text ? JSON.parse(text) : undefined);
    return { status: 202, jsonBody: { key, operation } };
  },
});
