// Tunables of the engine, with the defaults `dts serve` uses.
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../core/limits";
import { EngineObserver, NO_OBSERVER } from "./observer";

export interface EngineOptions {
  maxPayloadBytes: number;
  /**
   * In-flight limits per worker stream: used when the worker asks for none (the JS SDK never does),
   * and the most a worker may ask for.
   */
  maxOrchestrationsPerWorker: number;
  maxActivitiesPerWorker: number;
  maxEntitiesPerWorker: number;
  /**
   * The work a worker's completion creates is dispatched while its commit is written, not after
   * (its answer still waits for the commit; scheduler/hub-commit.ts).
   */
  speculativeDispatch: boolean;
  /** Most operations sent to an entity in one batch. */
  entityBatchSize: number;
  /**
   * How often a dispatched item's lease is checked. A lease whose worker stream is alive is renewed
   * (work stays with a live worker however long it runs); one whose stream has gone silent (the
   * worker has not read what was sent to it) is taken back. Dead connections are found by HTTP/2
   * keepalive and release their items at once.
   */
  orchestrationLockTimeoutMs: number;
  activityLockTimeoutMs: number;
  /** A work item lost this many times in a row (its worker's stream died each time) is failed instead of dispatched again. */
  maxDeliveryAttempts: number;
  /** Most new events sent in one orchestration work item; the rest go in the next. */
  maxEventsPerWorkItem: number;
  /**
   * While an orchestration still waits on more tasks, its results wait for each other up to this many
   * times its last episode's duration (core/result-batching.ts); 0 runs an episode per result.
   */
  resultBatchFactor: number;
  /** The longest a task result waits for others before its orchestration runs. */
  resultBatchMaxWaitMs: number;
  /** Client requests that add work are refused with RESOURCE_EXHAUSTED while this many changes wait for the store. */
  maxCommitBacklog: number;
  /** An orchestration whose history would grow past this many events is failed (HistoryTooLarge). */
  maxHistoryEvents: number;
  /** Past events beyond this count go by StreamInstanceHistory to workers that declare history streaming. */
  historyStreamingThreshold: number;
  /** Most WaitForInstance* calls waiting at once per hub. */
  maxWaiters: number;
  /** Most GetWorkItems streams one client connection may hold open. */
  maxWorkStreamsPerConnection: number;
  /** A HealthPing is sent on a stream silent for this long. */
  healthPingIntervalMs: number;
  /** Server-side bound of WaitForInstanceStart/Completion. */
  maxWaitMs: number;
  /** First and largest delay before an abandoned work item is dispatched again (it doubles each time). */
  abandonBaseDelayMs: number;
  abandonMaxDelayMs: number;
  /** Told of dispatches, completions and commits (metrics, traces); NO_OBSERVER when telemetry is off. */
  observer: EngineObserver;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  maxOrchestrationsPerWorker: 200,
  maxActivitiesPerWorker: 200,
  maxEntitiesPerWorker: 100,
  speculativeDispatch: true,
  entityBatchSize: 50,
  orchestrationLockTimeoutMs: 2 * 60_000,
  activityLockTimeoutMs: 10 * 60_000,
  maxDeliveryAttempts: 10,
  maxEventsPerWorkItem: 1000,
  resultBatchFactor: 4,
  resultBatchMaxWaitMs: 2000,
  maxCommitBacklog: 20_000,
  maxHistoryEvents: 100_000,
  historyStreamingThreshold: 1000,
  maxWaiters: 10_000,
  maxWorkStreamsPerConnection: 16,
  healthPingIntervalMs: 30_000,
  maxWaitMs: 5 * 60_000,
  abandonBaseDelayMs: 1000,
  abandonMaxDelayMs: 5 * 60_000,
  observer: NO_OBSERVER,
};
