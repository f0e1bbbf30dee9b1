// Reading flag and environment values: whole numbers, seconds, lists, and the usage error every
// dts command reports with exit code 2.

export class UsageError extends Error {}

export function int(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got '${value}'`);
  return n;
}

export function seconds(name: string, value: string | undefined): number | undefined {
  const n = int(name, value, 1);
  return n === undefined ? undefined : n * 1000;
}

/** A repeatable flag, else its environment variable split at commas. */
export function list(flag: string[] | undefined, envValue: string | undefined): string[] {
  if (flag && flag.length > 0) return flag;
  return (envValue ?? "").split(",").map((v) => v.trim()).filter(Boolean);
}
