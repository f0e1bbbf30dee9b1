// Fan-out/fan-in: one activity per item, all in parallel, then the results combined.
// Input (optional): { "items": ["a", "bb", ...] }; the five cities by default.
import * as df from "durable-functions";
import { OrchestrationContext } from "durable-functions";
import { CITIES } from "./hello-cities";

interface ItemResult {
  item: string;
  length: number;
}

df.app.activity("MeasureItem", {
  handler: (item: string): ItemResult => ({ item, length: item.length }),
});

df.app.orchestration("FanOutFanIn", function* (context: OrchestrationContext) {
  const input = (context.df.getInput() ?? {}) as { items?: string[] };
  const items = input.items ?? CITIES;
  const results: ItemResult[] = yield context.df.Task.all(items.map((item) => context.df.callActivity("MeasureItem", item)));
  return { count: results.length, totalLength: results.reduce((sum, r) => sum + r.length, 0), results };
});
