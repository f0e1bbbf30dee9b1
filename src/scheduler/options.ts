// Tunables of the engine, with the defaults `dts serve` uses.
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../core/limits";

export interface EngineOptions {
  maxPayloadBytes: number;
  /** In-flight limits per worker stream, used when the worker sends 0 (the JS SDK always does). */
  maxOrchestrationsPerWorker: number;
  maxActivitiesPerWorker: number;
  maxEntitiesPerWorker: number;
  /** Most operations sent to an entity in one batch. */
  entityBatchSize: number;
  /** A dispatched item comes back to the queue when not completed within this time. */
  orchestrationLockTimeoutMs: number;
  activityLockTimeoutMs: number;
  /** A HealthPing is sent on a stream silent for this long. */
  healthPingIntervalMs: number;
  /** Server-side bound of WaitForInstanceStart/Completion. */
  maxWaitMs: number;
  /** First and largest delay before an abandoned work item is dispatched again (it doubles each time). */
  abandonBaseDelayMs: number;
  abandonMaxDelayMs: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  maxOrchestrationsPerWorker: 200,
  maxActivitiesPerWorker: 200,
  maxEntitiesPerWorker: 100,
  entityBatchSize: 50,
  orchestrationLockTimeoutMs: 2 * 60_000,
  activityLockTimeoutMs: 10 * 60_000,
  healthPingIntervalMs: 30_000,
  maxWaitMs: 5 * 60_000,
  abandonBaseDelayMs: 1000,
  abandonMaxDelayMs: 5 * 60_000,
};
