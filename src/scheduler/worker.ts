// A connected worker's GetWorkItems stream as the scheduler sees it: a sink for work items with
// its own in-flight limits. The gRPC edge implements the sink.
import { pb } from "../proto";

export interface WorkItemSink {
  /** Writes one work item to the stream. */
  send(item: pb.IWorkItem): void;
}

export interface WorkerLimits {
  orchestrations: number;
  activities: number;
  entities: number;
}

export class WorkerConnection {
  inFlight = { orchestrations: 0, activities: 0, entities: 0 };
  readonly leases = new Set<string>();
  lastSentAt = Date.now();
  /** When a lease of this stream last ran out (0: never); on a tie in load, dispatch prefers other streams. */
  lastLockExpiredAt = 0;
  closed = false;
  /** Set by BeginWorkerDrain: no new work goes to this stream. */
  draining = false;

  constructor(
    readonly id: string,
    readonly sink: WorkItemSink,
    readonly limits: WorkerLimits,
    readonly connectedAt = Date.now(),
  ) {}

  send(item: pb.IWorkItem): void {
    this.lastSentAt = Date.now();
    this.sink.send(item);
  }
}
