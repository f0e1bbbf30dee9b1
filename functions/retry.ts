// An activity with retries: FlakyActivity fails its first `failures` attempts (counted per
// orchestration instance in this process), and the orchestration calls it with a retry policy.
// Input (optional): { "failures": 2, "maxAttempts": 3, "firstRetryMs": 1000 }.
import * as df from "durable-functions";
import { OrchestrationContext } from "durable-functions";

const attempts = new Map<string, number>();

df.app.activity("FlakyActivity", {
  handler: (input: { key: string; failures: number }) => {
    const attempt = (attempts.get(input.key) ?? 0) + 1;
    attempts.set(input.key, attempt);
    if (attempt <= input.failures) throw new Error(`Simulated failure on attempt ${attempt} of ${input.failures}`);
    return { attempts: attempt };
  },
});

df.app.orchestration("RetryWorkflow", function* (context: OrchestrationContext) {
  const input = (context.df.getInput() ?? {}) as { failures?: number; maxAttempts?: number; firstRetryMs?: number };
  const retry = new df.RetryOptions(input.firstRetryMs ?? 1000, input.maxAttempts ?? 3);
  const result: { attempts: number } = yield context.df.callActivityWithRetry("FlakyActivity", retry, {
    key: context.df.instanceId, failures: input.failures ?? 2,
  });
  return { succeededAfter: result.attempts, maxAttempts: retry.maxNumberOfAttempts };
});
