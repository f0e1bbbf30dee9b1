// durable-functions 3 ignores RetryOptions.retryTimeoutInMilliseconds: its RetryableTask counts
// attempts only, and after every failure waits for a retry timer. The Durable Task Framework (what the
// real host runs retries with) stops retrying once the timeout, measured from the first attempt, has
// passed when an attempt fails: the task fails at once with that attempt's error, and no timer is
// created. The local host adapts the app's own durable-functions to do the same, deterministically:
// both instants are orchestration time (currentUtcDateTime), so every replay decides alike. The
// provider's re-enactment of the replay (provider/action-plan.ts retryNode, provider/df-actions.ts retryTimedOut) applies the same rule.
import { retryTimedOut } from "../provider/df-actions";
import { appLibraryExport } from "./app-library";

const PATCHED = Symbol.for("dts.retryTimeouts");
const STARTED = Symbol("dts.retryFirstAttemptAt");

interface RetryableTask {
  retryOptions: { retryTimeoutInMilliseconds?: number };
  isWaitingOnTimer: boolean;
  setValue(isError: boolean, value: unknown): void;
  [STARTED]?: { context: { currentUtcDateTime: Date }; at: number };
}
type Child = { stateObj: unknown; result: unknown };
type Patchable = { prototype: Record<string | symbol, unknown> };

/** Patches the durable-functions 3 the app in `appDir` resolves; returns whether it could. */
export function enforceRetryTimeouts(appDir: string): boolean {
  const context = appLibraryExport<Patchable>(appDir, "durable-functions/lib/src/orchestrations/DurableOrchestrationContext", "DurableOrchestrationContext")?.prototype;
  const task = appLibraryExport<Patchable>(appDir, "durable-functions/lib/src/task/RetryableTask", "RetryableTask")?.prototype;
  const states = appLibraryExport<Record<string, unknown>>(appDir, "durable-functions/lib/src/task", "TaskState");
  if (!context || !task || !states || typeof task.trySetValue !== "function") return false;
  if (task[PATCHED]) return true;

  // The first attempt starts when the orchestrator calls ...WithRetry: note the orchestration time then.
  for (const method of ["callActivityWithRetry", "callSubOrchestratorWithRetry"]) {
    const original = context[method] as ((...args: unknown[]) => RetryableTask) | undefined;
    if (typeof original !== "function") return false;
    context[method] = function (this: { currentUtcDateTime: Date }, ...args: unknown[]) {
      const created = original.apply(this, args);
      created[STARTED] = { context: this, at: this.currentUtcDateTime.getTime() };
      return created;
    };
  }
  const trySetValue = task.trySetValue as (this: RetryableTask, child: Child, executor: unknown) => void;
  task.trySetValue = function (this: RetryableTask, child: Child, executor: unknown) {
    const started = this[STARTED];
    const failed = !this.isWaitingOnTimer && child.stateObj === states.Failed;
    if (failed && started && retryTimedOut(this.retryOptions, started.at, started.context.currentUtcDateTime.getTime())) {
      this.setValue(true, child.result);
      return;
    }
    trySetValue.call(this, child, executor);
  };
  task[PATCHED] = true;
  return true;
}
