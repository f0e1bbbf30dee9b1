// One log function for the host's parts (loader, HTTP server, management API, durable worker), with
// the Functions log levels, so `dts func start` prints like `func start`: a timestamp and a line.
import { LOG_LEVELS, LogLevel, rank } from "../log/log";

export { errorText } from "../log/log";
export { LOG_LEVELS };
export type { LogLevel };
/** "user": the app's context.log; "system": @azure/functions' own logs; "host": this host's parts. */
export type LogCategory = "user" | "system" | "customMetric" | "host";

export type HostLog = ((level: LogLevel, message: string, category?: LogCategory) => void) & {
  /** Whether a line of that level and category would be printed (absent: assume it would), so a caller can skip building it. */
  enabled?: (level: LogLevel, category?: LogCategory) => boolean;
};


/**
 * Prints to stdout (errors to stderr). The library's system logs are chatty at information level, so
 * like `func start` they show from `systemLevel` (default warning); user and host logs from `level`.
 */
export function consoleLog(options: { level?: LogLevel; systemLevel?: LogLevel } = {}): HostLog {
  const min = rank(options.level ?? "information");
  const system = rank(options.systemLevel ?? "warning");
  const enabled = (level: LogLevel, category: LogCategory = "host") => level !== "none" && rank(level) >= (category === "system" ? system : min);
  const log: HostLog = (level, message, category = "host") => {
    if (!enabled(level, category)) return;
    const line = `[${new Date().toISOString()}] ${message}\n`;
    (rank(level) >= rank("error") ? process.stderr : process.stdout).write(line);
  };
  log.enabled = enabled;
  return log;
}
