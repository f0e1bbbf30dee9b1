// What the fuzz tests share: a seeded generator (the same seed, the same requests, so a failure can
// be replayed), the strings a request may carry, and the checks after a fuzz.
import { OrchestrationContext, OrchestrationStatus, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { client, completed, worker } from "./sdk";

/** A small seeded generator (mulberry32). */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
}

/** Strings a request may carry: real-looking instance ids and names, and what tends to break parsers. */
export const STRINGS = [
  "", "x", "Fuzz", "sayHello", "fz-0", "fz-1", "fz-2", "@counter@a", "@Counter@b", "main", "fuzz",
  "a".repeat(3000), "é日本\u0000\u001f", "\ud800", "../../etc/passwd", '{"a":1}', "not json", "null", "[]", "%", "'; drop table x; --",
];
export const INTS = [0, 1, -1, 2, 7, 100, 2 ** 31 - 1, -(2 ** 31), 65535];

/**
 * The server still runs an orchestration after a fuzz: an SDK worker and client on `hub` (returned
 * for the caller to stop) run Echo once, instance `id`.
 */
export async function echoRuns(address: string, hub: string): Promise<{ w: TaskHubGrpcWorker; c: TaskHubGrpcClient; id: string }> {
  const w = worker(address, hub);
  w.addNamedOrchestrator("Echo", (_ctx: OrchestrationContext, input: string) => `echo:${input}`);
  await w.start();
  const c = client(address, hub);
  const id = await c.scheduleNewOrchestration("Echo", "after the fuzz");
  const state = await completed(c, id);
  expect([state.runtimeStatus, state.serializedOutput]).toEqual([OrchestrationStatus.COMPLETED, '"echo:after the fuzz"']);
  return { w, c, id };
}

const ENDED = new Set([OrchestrationStatus.COMPLETED, OrchestrationStatus.FAILED, OrchestrationStatus.TERMINATED].map(Number));

/**
 * Instances (QueryInstances' states) as a restart must keep them: ids, and the status of those that
 * had ended (a timer may fire during a restart and move a running one).
 */
export function restartSummary(states: { instanceId: string; orchestrationStatus: number }[]): string[] {
  return states.map((s) => (ENDED.has(s.orchestrationStatus) ? `${s.instanceId}:${s.orchestrationStatus}` : s.instanceId)).sort();
}
