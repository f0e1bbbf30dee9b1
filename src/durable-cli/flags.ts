// The flags of `dts durable` verbs, read and checked before anything is sent: each usage error names
// the flag and what it wants.
import * as fs from "fs";
import * as path from "path";
import { toTimestamp } from "../core/events";
import { pb } from "../proto";
import { parseRuntimeStatuses } from "../host/status-payload";

export class DurableUsageError extends Error {}

export type Values = Record<string, string | boolean | undefined>;

const S = pb.OrchestrationStatus;
/** Only finished instances can be purged. */
export const PURGEABLE = [S.ORCHESTRATION_STATUS_COMPLETED, S.ORCHESTRATION_STATUS_FAILED, S.ORCHESTRATION_STATUS_TERMINATED, S.ORCHESTRATION_STATUS_CANCELED];

export function text(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function required(values: Values, name: string, example: string): string {
  const v = text(values, name);
  if (v === undefined) throw new DurableUsageError(`--${name} is required, e.g. --${name} ${example}`);
  return v;
}

/** --input / --event-data: JSON text, or @file holding JSON; returned re-serialized, compact. */
export function jsonFlag(values: Values, name: string): string | undefined {
  const v = values[name];
  if (typeof v !== "string") return undefined;
  let source = `--${name}`;
  let body = v;
  if (v.startsWith("@")) {
    const file = path.resolve(v.slice(1));
    source = `the file ${file} (--${name})`;
    try {
      body = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
    } catch (err) {
      throw new DurableUsageError(`--${name} ${v}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  try {
    return JSON.stringify(JSON.parse(body));
  } catch (err) {
    throw new DurableUsageError(`${source} is not valid JSON (${(err as Error).message}); a string needs quotes, e.g. --${name} '"text"', or use @file.json`);
  }
}

export function time(values: Values, name: string): pb.google.protobuf.ITimestamp | undefined {
  const v = text(values, name);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (isNaN(ms)) throw new DurableUsageError(`--${name} must be a date and time (ISO 8601, e.g. 2024-05-01T00:00:00Z), got '${v}'`);
  return toTimestamp(ms);
}

export function positiveInt(values: Values, name: string): number | undefined {
  const v = text(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new DurableUsageError(`--${name} must be a whole number >= 1, got '${v}'`);
  return n;
}

export function runtimeStatuses(values: Values): pb.OrchestrationStatus[] | undefined {
  try {
    return parseRuntimeStatuses(text(values, "runtime-status") ?? null);
  } catch (err) {
    throw new DurableUsageError(`--runtime-status: ${(err as Error).message}`);
  }
}

/** purge-history's statuses: only finished instances can be purged, so naming another is a mistake. */
export function purgeStatuses(values: Values): pb.OrchestrationStatus[] {
  const asked = runtimeStatuses(values);
  if (!asked) return PURGEABLE;
  const bad = asked.filter((s) => !PURGEABLE.includes(s));
  if (bad.length > 0) throw new DurableUsageError(`--runtime-status: only finished instances (Completed, Failed, Terminated, Canceled) can be purged; terminate running ones first`);
  return asked;
}

export function bool(values: Values, name: string, dflt: boolean): boolean {
  const v = text(values, name);
  if (v === undefined) return dflt;
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === "true";
  throw new DurableUsageError(`--${name} must be true or false, got '${v}'`);
}
