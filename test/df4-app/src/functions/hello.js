// HelloCities (five "Hello, {city}" activities in sequence), FanOutFanIn and the HTTP starter: the
// same workload as the 3.x sample at the repository root, written for durable-functions 4.
const df = require("durable-functions");

const CITIES = ["Tokyo", "Seattle", "London", "Cairo", "Lima"];

df.app.activity("SayHello", { handler: (city) => `Hello, ${city}!` });

df.app.orchestration("HelloCities", function* (context) {
  const greetings = [];
  for (const city of CITIES) greetings.push(yield context.df.callActivity("SayHello", city));
  return greetings;
});

df.app.activity("MeasureItem", { handler: (item) => ({ item, length: item.length }) });

df.app.orchestration("FanOutFanIn", function* (context) {
  const items = (context.df.getInput() || {}).items || CITIES;
  const results = yield context.df.Task.all(items.map((item) => context.df.callActivity("MeasureItem", item)));
  return { count: results.length, totalLength: results.reduce((sum, r) => sum + r.length, 0), results };
});

// POST /api/orchestrators/{orchestratorName}[/{instanceId}], the input as the JSON body.
df.app.client.http("HttpStart", {
  route: "orchestrators/{orchestratorName}/{instanceId?}",
  methods: ["POST"],
  handler: async (request, client, context) => {
    const text = await request.text();
    const input = text.trim() ? JSON.parse(text) : undefined;
    const version = request.query.get("version") || undefined;
    const instanceId = await client.startNew(request.params.orchestratorName, { input, instanceId: request.params.instanceId || undefined, version });
    context.log(`Started orchestration '${request.params.orchestratorName}' with ID = '${instanceId}'.`);
    return client.createCheckStatusResponse(request, instanceId);
  },
});
