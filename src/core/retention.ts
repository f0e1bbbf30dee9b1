// Retention policies, as the managed Durable Task Scheduler defines them: a default period and
// optional periods per terminal status (Completed, Failed, Canceled, Terminated), in whole days,
// counted from when the instance reached that status (its completedAt). 0 keeps forever. Running,
// pending, suspended and continued-as-new instances have no completedAt and are never subject to it.
import { invalid } from "./errors";
import { Status, statusName } from "./model";

export const DAY_MS = 24 * 60 * 60 * 1000;
/** The managed service's default: 30 days, on. */
export const DEFAULT_RETENTION_DAYS = 30;
/** Ten years: anything longer is a typo (and would overflow nothing, but says nothing a 0 does not). */
export const MAX_RETENTION_DAYS = 3650;

/** The statuses a policy names, with the field that holds each one's period. */
export const RETENTION_STATUSES = [
  { status: Status.ORCHESTRATION_STATUS_COMPLETED, field: "completedDays" },
  { status: Status.ORCHESTRATION_STATUS_FAILED, field: "failedDays" },
  { status: Status.ORCHESTRATION_STATUS_CANCELED, field: "canceledDays" },
  { status: Status.ORCHESTRATION_STATUS_TERMINATED, field: "terminatedDays" },
] as const;

export type RetentionStatusField = (typeof RETENTION_STATUSES)[number]["field"];
export const RETENTION_FIELDS: readonly ("days" | RetentionStatusField)[] = ["days", ...RETENTION_STATUSES.map((s) => s.field)];

/**
 * A policy as set (by flags for the scheduler, or as a hub's override): every field optional. A
 * status's period is its own field, else `days`; a hub's override falls back to the scheduler's
 * policy for what it leaves out (see effectivePeriods).
 */
export type RetentionPolicy = Partial<Record<"days" | RetentionStatusField, number>>;

/** The period in force for one terminal status: days (0: kept forever) and which setting gave it. */
export interface RetentionPeriod {
  status: Status;
  name: string;
  days: number;
  from: "hub" | "scheduler";
}

/**
 * The period for each terminal status: the hub's own period for that status, else the hub's default,
 * else the scheduler's period for that status, else the scheduler's default (else 30 days).
 */
export function effectivePeriods(scheduler: RetentionPolicy, hub: RetentionPolicy | undefined): RetentionPeriod[] {
  return RETENTION_STATUSES.map(({ status, field }) => {
    const own = hub?.[field] ?? hub?.days;
    if (own !== undefined) return { status, name: statusName(status), days: own, from: "hub" as const };
    return { status, name: statusName(status), days: scheduler[field] ?? scheduler.days ?? DEFAULT_RETENTION_DAYS, from: "scheduler" as const };
  });
}

/** Throws INVALID_ARGUMENT unless every field present is a whole number of days from 0 to MAX_RETENTION_DAYS. */
export function checkRetentionPolicy(p: RetentionPolicy): RetentionPolicy {
  const out: RetentionPolicy = {};
  for (const [key, value] of Object.entries(p)) {
    if (value === undefined) continue;
    if (!RETENTION_FIELDS.includes(key as keyof RetentionPolicy)) throw invalid(`unknown retention field '${key}'; the fields are ${RETENTION_FIELDS.join(", ")}`);
    out[key as keyof RetentionPolicy] = checkDays(key, value);
  }
  return out;
}

export function checkDays(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_RETENTION_DAYS) {
    throw invalid(`${field} must be a whole number of days from 0 (keep forever) to ${MAX_RETENTION_DAYS}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** "30 days" or "kept forever", for banners, the CLI and the dashboard. */
export function describeDays(days: number): string {
  return days === 0 ? "kept forever" : `${days} day${days === 1 ? "" : "s"}`;
}

/** One line: each status's period, e.g. "Completed 30 days, Failed 30 days, Canceled kept forever, Terminated 30 days". */
export function describePeriods(periods: RetentionPeriod[]): string {
  return periods.map((p) => `${p.name} ${describeDays(p.days)}`).join(", ");
}
