// The HTTP starter: POST /api/orchestrators/{orchestratorName}[/{instanceId}] with the input as the
// JSON body; answers 202 with the check-status URLs (statusQueryGetUri, sendEventPostUri, ...).
import * as df from "durable-functions";
import { DurableClient } from "durable-functions";
import { HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from "@azure/functions";

df.app.client.http("HttpStart", {
  route: "orchestrators/{orchestratorName}/{instanceId?}",
  methods: ["POST"],
  handler: async (request: HttpRequest, client: DurableClient, context: InvocationContext): Promise<HttpResponse | HttpResponseInit> => {
    const name = request.params.orchestratorName;
    const text = await request.text();
    let input: unknown;
    if (text.trim()) {
      try {
        input = JSON.parse(text);
      } catch {
        return { status: 400, jsonBody: { error: "The body must be JSON: the orchestration's input" } };
      }
    }
    let instanceId: string;
    try {
      instanceId = await client.startNew(name, { input, instanceId: request.params.instanceId || undefined });
    } catch (err) {
      // The client's error names the management API's status: 400 for an unknown orchestrator, 409 for a running id.
      const status = Number(/status code: (\d{3})/.exec((err as Error).message)?.[1] ?? 500);
      return { status, jsonBody: { error: `Could not start '${name}': ${(err as Error).message}` } };
    }
    context.log(`Started orchestration '${name}' with ID = '${instanceId}'.`);
    return client.createCheckStatusResponse(request, instanceId);
  },
});
