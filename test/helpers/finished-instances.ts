// Finished orchestration instances written straight into a store, as long-finished instances sit
// there (cold: not in the scheduler's memory): a record with its completion time, and a
// HelloCities-like history. For retention tests and the retention benchmark.
import { event, executionStarted, str } from "../../src/core/events";
import { HistoryEvent, InstanceRecord, Status } from "../../src/core/model";
import { SqliteStore, StoreOp } from "../../src/store";

export interface FinishedOptions {
  /** Sub-orchestrations it created (their ids; write them separately). */
  children?: string[];
  parentInstanceId?: string;
  /** Activities in its history (default 5, like HelloCities5). */
  activities?: number;
}

/** The store ops that write one instance that reached `status` at `completedAt` (epoch ms). */
export function finishedInstance(hub: string, instanceId: string, status: Status, completedAt: number, o: FinishedOptions = {}): StoreOp[] {
  const startedAt = completedAt - 1000;
  const instance: InstanceRecord = {
    instanceId, executionId: `x-${instanceId}`, name: "HelloCities", status, input: '"in"', output: '"out"',
    createdAt: startedAt, lastUpdatedAt: completedAt, completedAt, parentInstanceId: o.parentInstanceId,
  };
  if (!o.parentInstanceId) delete instance.parentInstanceId;
  const history: HistoryEvent[] = [event(startedAt, { orchestratorStarted: {} }), executionStarted(startedAt, { name: "HelloCities", input: str('"in"') })];
  for (let i = 0; i < (o.activities ?? 5); i++) {
    history.push(event(startedAt, { taskScheduled: { name: "SayHello", input: str(`"city ${i}"`) } }, i));
    history.push(event(startedAt, { taskCompleted: { taskScheduledId: i, result: str(`"Hello, city ${i}"`) } }));
  }
  (o.children ?? []).forEach((child, i) => history.push(event(startedAt, { subOrchestrationInstanceCreated: { instanceId: child, name: "Child" } }, 100 + i)));
  history.push(event(completedAt, { executionCompleted: { orchestrationStatus: status, result: str('"out"') } }));
  return [{ op: "putInstance", hub, instance }, { op: "appendHistory", hub, instanceId, from: 0, events: history }];
}

/** Writes n Completed instances `<prefix><i>` finished at `completedAt` into the SQLite data directory `dir` (in transactions of 1000). */
export function seedFinished(dir: string, hub: string, n: number, completedAt: number, prefix = "old-"): void {
  const store = new SqliteStore(dir, { synchronous: "normal" });
  try {
    store.createHub(hub);
    for (let i = 0; i < n; i += 1000) {
      const ops: StoreOp[] = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) ops.push(...finishedInstance(hub, `${prefix}${j}`, Status.ORCHESTRATION_STATUS_COMPLETED, completedAt));
      store.commit(ops);
    }
  } finally {
    store.close();
  }
}
