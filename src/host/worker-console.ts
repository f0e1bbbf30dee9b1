// durable-functions 4's shared worker logs every replayed event through console.debug/info (its
// default ConsoleLogger). The Node language worker turns an app's console calls into logs at those
// levels, which the Functions host filters (Information by default); this host does the same for
// those two levels; the library's own lines (`[event id] [Microsoft.DurableTask...]`) count as system
// logs, shown from warning as @azure/functions' are, so replay chatter stays out of the way.
import { format } from "util";
import { HostLog } from "./log";

const LIBRARY_LINE = /^\[\d+\] \[Microsoft\.DurableTask/;

/** Routes console.debug and console.info into `log`; returns the undo. */
export function routeWorkerConsole(log: HostLog): () => void {
  const { debug, info } = console;
  const route = (level: "debug" | "information") => (...args: unknown[]) => {
    const category = typeof args[0] === "string" && LIBRARY_LINE.test(args[0]) ? "system" : "user";
    // Formatting (util.inspect of the properties objects) is most of a line's cost: skip it for dropped lines.
    if (log.enabled && !log.enabled(level, category)) return;
    log(level, format(...args), category);
  };
  console.debug = route("debug");
  console.info = route("information");
  return () => {
    console.debug = debug;
    console.info = info;
  };
}
