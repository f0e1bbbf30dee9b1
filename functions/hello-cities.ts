// HelloCities: five "Hello, {city}" activities in sequence, the benchmark workload of the managed
// scheduler's samples (and of `npm run bench`).
import * as df from "durable-functions";
import { OrchestrationContext } from "durable-functions";

export const CITIES = ["Tokyo", "Seattle", "London", "Cairo", "Lima"];

df.app.activity("SayHello", {
  handler: (city: string) => `Hello, ${city}!`,
});

df.app.orchestration("HelloCities", function* (context: OrchestrationContext) {
  const greetings: string[] = [];
  for (const city of CITIES) greetings.push(yield context.df.callActivity("SayHello", city));
  return greetings;
});
