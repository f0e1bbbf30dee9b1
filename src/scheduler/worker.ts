// A connected worker's GetWorkItems stream as the scheduler sees it: a sink for work items with
// its own in-flight limits. The gRPC edge implements the sink.
import { WorkFilter } from "../core/work-filters";
import { pb } from "../proto";

export interface WorkItemSink {
  /** Writes one work item to the stream; false when the stream's buffer is full (the worker is not reading). */
  send(item: pb.IWorkItem): boolean;
  /** Ends the stream with UNAVAILABLE and this message (the hub was deleted, the scheduler stops). */
  end(reason: string): void;
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
  /** Since when writes to this stream have been backed up (the worker stopped reading); undefined when flowing. */
  backedUpSince?: number;

  constructor(
    readonly id: string,
    readonly sink: WorkItemSink,
    readonly limits: WorkerLimits,
    readonly connectedAt = Date.now(),
    /** The worker fetches long histories with StreamInstanceHistory (WORKER_CAPABILITY_HISTORY_STREAMING). */
    readonly historyStreaming = false,
    /** What the worker can run (GetWorkItemsRequest.workItemFilters); undefined: everything. */
    readonly filter?: WorkFilter,
    /** In a cluster, the node whose worker this stream mirrors (the worker itself is connected there). */
    readonly mirrorFor?: string,
  ) {}

  send(item: pb.IWorkItem): void {
    this.lastSentAt = Date.now();
    if (!this.sink.send(item)) this.backedUpSince ??= this.lastSentAt;
  }

  /** The stream's buffer drained: the worker reads again. */
  drained(): void {
    this.backedUpSince = undefined;
  }
}
