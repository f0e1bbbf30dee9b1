// The process's one log for dts serve (scheduler, gRPC edge, store, CLI): levels with the Functions
// host's names (the same DTS_LOG_LEVEL dts func start reads), and two formats. Text, the default,
// prints the message alone, as the lines always looked; JSON prints one object per line with the
// time, the level, the message and the fields (hub, instanceId, workItem) a person filters on.
// Process-wide because its callers are spread through every layer and configured once, at start-up.
export type LogLevel = "trace" | "debug" | "information" | "warning" | "error" | "critical" | "none";
export type LogFormat = "text" | "json";

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, information: 2, warning: 3, error: 4, critical: 5, none: 6 };
export const LOG_LEVELS = Object.keys(RANK) as LogLevel[];
export const LOG_FORMATS: LogFormat[] = ["text", "json"];
/** The short names people type too. */
const ALIASES: Record<string, LogLevel> = { info: "information", warn: "warning", fatal: "critical" };

/** What a line is about; each field that is set becomes a JSON property. */
export interface LogFields {
  hub?: string;
  instanceId?: string;
  /** A work item's completion token. */
  workItem?: string;
  [field: string]: unknown;
}

/** Epoch milliseconds to the microsecond, as the debug lines that time work items print them (one clock on one machine). */
export function preciseEpochMs(): number {
  return +(performance.timeOrigin + performance.now()).toFixed(3);
}

/** A level name as typed (any case, short names allowed); undefined when it is none of them. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const v = value.trim().toLowerCase();
  return (LOG_LEVELS as string[]).includes(v) ? (v as LogLevel) : ALIASES[v];
}

export function rank(level: LogLevel): number {
  return RANK[level] ?? RANK.information;
}

let format: LogFormat = "text";
let min = RANK.information;

/** Sets the format and the least level printed, for the whole process. */
export function configureLog(options: { format?: LogFormat; level?: LogLevel }): void {
  if (options.format) format = options.format;
  if (options.level) min = rank(options.level);
}

export function logFormat(): LogFormat {
  return format;
}

/** Whether a line of `level` would be printed (so a caller can skip building it). */
export function logEnabled(level: LogLevel): boolean {
  return level !== "none" && rank(level) >= min;
}

/** Prints one line: warnings and worse to stderr, the rest to stdout. */
export function writeLog(level: LogLevel, message: string, fields?: LogFields): void {
  if (!logEnabled(level)) return;
  const line = format === "json" ? jsonLine(level, message, fields) : message;
  (rank(level) >= RANK.warning ? process.stderr : process.stdout).write(line + "\n");
}

function jsonLine(level: LogLevel, message: string, fields?: LogFields): string {
  // The "dts: " prefix names the program on a terminal; in JSON the line is already the program's.
  const msg = message.startsWith("dts: ") ? message.slice(5) : message;
  const out: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
  if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v instanceof Error ? v.stack ?? v.message : v;
  return JSON.stringify(out);
}

/** The levels as functions: `log.error("dts: …", { hub })`. */
export const log = {
  error: (message: string, fields?: LogFields) => writeLog("error", message, fields),
  warning: (message: string, fields?: LogFields) => writeLog("warning", message, fields),
  info: (message: string, fields?: LogFields) => writeLog("information", message, fields),
  debug: (message: string, fields?: LogFields) => writeLog("debug", message, fields),
  critical: (message: string, fields?: LogFields) => writeLog("critical", message, fields),
};

/** An error as one line's text: its stack when it has one. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}
