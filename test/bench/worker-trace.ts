// The worker's side of the per-step trace (worker-process.js --trace FILE; the functions host prints the
// same moments at debug level): for every work item, when
// the SDK worker took it off its stream, when it sent the completion, and when the scheduler's answer
// to that completion arrived, as `bench-trace {...}` lines keyed by the completion token (the
// scheduler's log names the same token). A file, not stdout: nobody is woken to read it mid-run.
// Wraps two of TaskHubGrpcWorker's internal methods: the SDK offers no hook there, and the bench must
// see those moments without changing what the worker does.
import * as fs from "fs";
import { TaskHubGrpcWorker } from "@microsoft/durabletask-js";

export const TRACE_PREFIX = "bench-trace ";

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const preciseNow = () => performance.timeOrigin + performance.now();

export type WorkerMoment = "received" | "sent" | "answered";

export interface WorkerTraceLine {
  token: string;
  moment: WorkerMoment;
  at: number;
}

type Callback = (err: unknown, res: unknown) => void;
type Unary = (req: unknown, metadata: unknown, callback: Callback) => unknown;
type Execute = (req: unknown, token: string, stub: Record<string, Unary>) => void;

/** The stub with its completion call timed: sent when called, answered when its callback runs. */
function timedStub(stub: Record<string, Unary>, method: string, token: string, mark: (token: string, moment: WorkerMoment) => void): Record<string, Unary> {
  const call = stub[method];
  const timed: Unary = (req, metadata, callback) => {
    mark(token, "sent");
    return call.call(stub, req, metadata, (err, res) => {
      mark(token, "answered");
      callback(err, res);
    });
  };
  return Object.assign(Object.create(stub) as Record<string, Unary>, { [method]: timed });
}

/** Installs the trace on every TaskHubGrpcWorker in this process, appending to `file`. */
export function traceWorkItems(file: string): void {
  const fd = fs.openSync(file, "a");
  const mark = (token: string, moment: WorkerMoment) => {
    const line: WorkerTraceLine = { token, moment, at: +preciseNow().toFixed(3) };
    fs.writeSync(fd, TRACE_PREFIX + JSON.stringify(line) + "\n");
  };
  const proto = TaskHubGrpcWorker.prototype as unknown as Record<string, Execute>;
  for (const [execute, complete] of [["_executeOrchestrator", "completeOrchestratorTask"], ["_executeActivity", "completeActivityTask"]]) {
    const original = proto[execute];
    if (typeof original !== "function") throw new Error(`the SDK worker has no ${execute}: the bench's trace needs updating for this SDK version`);
    proto[execute] = function (this: unknown, req, token, stub) {
      mark(token, "received");
      return original.call(this, req, token, timedStub(stub, complete, token, mark));
    };
  }
}

/** The functions host's debug lines of the same moments (func-host.ts). */
const HOST_MOMENT = /\[durable\] work item (received|completion sent|completion answered) \(token ([^)]+)\) at ([\d.]+)/;
const HOST_WORDS: Record<string, WorkerMoment> = { received: "received", "completion sent": "sent", "completion answered": "answered" };

/** The worker's trace lines in a trace file's text, or in the functions host's output at debug level. */
export function workerMoments(output: string): WorkerTraceLine[] {
  const out: WorkerTraceLine[] = [];
  for (const line of output.split("\n")) {
    if (line.startsWith(TRACE_PREFIX)) out.push(JSON.parse(line.slice(TRACE_PREFIX.length)) as WorkerTraceLine);
    const host = HOST_MOMENT.exec(line);
    if (host) out.push({ moment: HOST_WORDS[host[1]], token: host[2], at: Number(host[3]) });
  }
  return out;
}
