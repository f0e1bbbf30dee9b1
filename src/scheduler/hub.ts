// What the server, the dashboard and the retention purger see of a task hub, whether it runs as one
// engine (TaskHub: one partition) or split into partitions (PartitionedHub).
import type { TaskHub } from "./task-hub";

export type Hub = Pick<TaskHub,
  "name" | "clients" | "reads" | "completions" | "schedules" | "retention" | "entities" | "loading" | "connectWorker" | "disconnectWorker" | "close" | "drainWorker"> & {
  reload(): Promise<void> | void;
  /** Another process wrote to partition `part`'s inbox (PostgreSQL NOTIFY); a hub of one partition has none. */
  inboxWritten?(part: number): void;
};
