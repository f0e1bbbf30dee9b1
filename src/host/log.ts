// One log function for the host's parts (loader, HTTP server, management API, durable worker), with
// the Functions log levels, so `dts func start` prints like `func start`: a timestamp and a line.
export type LogLevel = "trace" | "debug" | "information" | "warning" | "error" | "critical" | "none";
/** "user": the app's context.log; "system": @azure/functions' own logs; "host": this host's parts. */
export type LogCategory = "user" | "system" | "customMetric" | "host";

export type HostLog = ((level: LogLevel, message: string, category?: LogCategory) => void) & {
  /** Whether a line of that level and category would be printed (absent: assume it would), so a caller can skip building it. */
  enabled?: (level: LogLevel, category?: LogCategory) => boolean;
};

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, information: 2, warning: 3, error: 4, critical: 5, none: 6 };
export const LOG_LEVELS = Object.keys(RANK) as LogLevel[];

/**
 * Prints to stdout (errors to stderr). The library's system logs are chatty at information level, so
 * like `func start` they show from `systemLevel` (default warning); user and host logs from `level`.
 */
export function consoleLog(options: { level?: LogLevel; systemLevel?: LogLevel } = {}): HostLog {
  const min = RANK[options.level ?? "information"];
  const system = RANK[options.systemLevel ?? "warning"];
  const enabled = (level: LogLevel, category: LogCategory = "host") => level !== "none" && (RANK[level] ?? RANK.information) >= (category === "system" ? system : min);
  const log: HostLog = (level, message, category = "host") => {
    if (!enabled(level, category)) return;
    const line = `[${new Date().toISOString()}] ${message}\n`;
    ((RANK[level] ?? RANK.information) >= RANK.error ? process.stderr : process.stdout).write(line);
  };
  log.enabled = enabled;
  return log;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}
