// durable-functions' action list as it arrives in the orchestrator's state (action types, retry
// options, fields by type), and the small rules the host applies to it: retry delays and timeouts,
// generated sub-orchestration ids, how inputs become JSON.
import { createHash } from "crypto";

/** durable-functions' ActionType numbers. */
export const ActionType = {
  CallActivity: 0, CallActivityWithRetry: 1, CallSubOrchestrator: 2, CallSubOrchestratorWithRetry: 3, ContinueAsNew: 4,
  CreateTimer: 5, WaitForExternalEvent: 6, CallEntity: 7, CallHttp: 8, SignalEntity: 9, WhenAny: 11, WhenAll: 12,
  LockEntities: 13, ReleaseEntities: 14,
} as const;

export interface RetryOptionsJson {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** One action as durable-functions serializes it (fields by action type). */
export interface DfAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  retryOptions?: RetryOptionsJson;
  instanceId?: string;
  version?: string;
  fireAt?: string | Date;
  isCanceled?: boolean;
  externalEventName?: string;
  operation?: string;
  compoundActions?: DfAction[];
  lockRequestId?: string;
  lockSet?: { name: string; key: string }[];
  httpRequest?: unknown;
}

/** The Durable Task Framework's retry delay after `failures` failed attempts. */
export function retryDelay(o: RetryOptionsJson, failures: number): number {
  const coefficient = typeof o.backoffCoefficient === "number" && o.backoffCoefficient > 0 ? o.backoffCoefficient : 1;
  const delay = o.firstRetryIntervalInMilliseconds * Math.pow(coefficient, failures - 1);
  const max = typeof o.maxRetryIntervalInMilliseconds === "number" && o.maxRetryIntervalInMilliseconds > 0 ? o.maxRetryIntervalInMilliseconds : Infinity;
  return Math.min(delay, max);
}

/**
 * Whether a retry stops at a failure seen at orchestration time `now`: the retry timeout, measured from
 * the first attempt, has passed (the Durable Task Framework's rule; no timeout when not a positive number).
 */
export function retryTimedOut(o: Pick<RetryOptionsJson, "retryTimeoutInMilliseconds">, firstAttemptAt: number, now: number): boolean {
  const timeout = o.retryTimeoutInMilliseconds;
  return typeof timeout === "number" && timeout > 0 && now >= firstAttemptAt + timeout;
}

/** A deterministic sub-orchestration id for calls that give none (within the 100-character limit). */
export function childInstanceId(instanceId: string, executionId: string, taskId: number): string {
  return createHash("sha1").update(`${instanceId}\u0000${executionId}\u0000${taskId}`).digest("hex").slice(0, 32);
}

/** JSON for an input durable-functions passes through as is (sub-orchestrations, entities). */
export function json(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/**
 * JSON for an input durable-functions pre-serializes when it is a string (activities, continueAsNew:
 * Utils.processInput turns "x" into "\"x\"" and leaves other values as they are).
 */
export function jsonOfProcessed(value: unknown): string | undefined {
  if (typeof value === "string") {
    try {
      JSON.parse(value);
      return value;
    } catch {
      return JSON.stringify(value);
    }
  }
  return json(value);
}
