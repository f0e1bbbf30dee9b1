// durable-functions 3 loses what an orchestrator threw: its executor keeps the exception but throws
// an OrchestrationFailureError built from a boolean instead of it, so only the message survives (in
// the out-of-proc state) and the type and stack are gone. The real host has the same gap; the
// managed service shows them. So the local host, which already provides the worker's runtime,
// wraps the executor of the app's own durable-functions: a failure it throws carries the original
// exception as `cause`, which the provider turns into errorType and stackTrace (functions.ts).
import { appLibraryExport } from "./app-library";

const PATCHED = Symbol.for("dts.orchestratorErrorCause");

type Executor = { prototype: { execute: (...args: unknown[]) => Promise<unknown>; exception?: unknown; [PATCHED]?: boolean } };

/** Patches the durable-functions the app in `appDir` resolves, if it has 3.x's executor; returns whether it did. */
export function keepOrchestratorErrors(appDir: string): boolean {
  const proto = appLibraryExport<Executor>(appDir, "durable-functions/lib/src/orchestrations/TaskOrchestrationExecutor", "TaskOrchestrationExecutor")?.prototype;
  if (!proto || typeof proto.execute !== "function") return false;
  if (proto[PATCHED]) return true;
  const execute = proto.execute;
  proto.execute = function (this: { exception?: unknown }, ...args: unknown[]) {
    return execute.apply(this, args).catch((err: unknown) => {
      if (err instanceof Error && this.exception !== undefined && err.cause === undefined) err.cause = this.exception;
      throw err;
    });
  };
  proto[PATCHED] = true;
  return true;
}
