// How many work items of each kind one worker runs at once: host.json's maxConcurrent*Functions, read
// by the provider's config loader (which applies the Durable extension's defaults); 10 each when the
// monitor has no app to read.
import { ProviderConfig } from "../src/provider/config";
import { WorkKind } from "./metrics";

export type ConcurrencyLimits = Record<WorkKind, number>;

/** The per-kind limit assumed without the app's host.json (the workers' core count is unknown then). */
const DEFAULT_MAX_CONCURRENT = 10;

export const DEFAULT_LIMITS: Readonly<ConcurrencyLimits> = Object.freeze({
  orchestrator: DEFAULT_MAX_CONCURRENT,
  activity: DEFAULT_MAX_CONCURRENT,
  entity: DEFAULT_MAX_CONCURRENT,
});

/** The names users write (host.json, KEDA trigger metadata) for each kind's limit. */
export const LIMIT_NAMES: Readonly<Record<WorkKind, string>> = Object.freeze({
  orchestrator: "maxConcurrentOrchestratorFunctions",
  activity: "maxConcurrentActivityFunctions",
  entity: "maxConcurrentEntityFunctions",
});

export function limitsFromConfig(config: ProviderConfig): ConcurrencyLimits {
  return {
    orchestrator: config.maxConcurrentOrchestratorFunctions,
    activity: config.maxConcurrentActivityFunctions,
    entity: config.maxConcurrentEntityFunctions,
  };
}
