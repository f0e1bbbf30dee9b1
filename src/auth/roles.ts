// The managed scheduler's three data roles and, in one table, the least role each RPC of both gRPC
// services needs. The roles nest (Reader within Worker within Contributor), so one entry per RPC is
// the whole rule; the README's table is this one.

/** Spelled as the managed service spells them: role assignment files and token `roles` use these names. */
export const READER = "Durable Task Data Reader";
export const WORKER = "Durable Task Worker";
export const CONTRIBUTOR = "Durable Task Data Contributor";

export const ROLES = [READER, WORKER, CONTRIBUTOR] as const;
export type Role = (typeof ROLES)[number];

/** A task hub by name, or the whole scheduler. */
export const SCHEDULER_SCOPE = "*";

export interface Permission {
  /** The least role that allows the call; every role above it does too. */
  role: Role;
  /** "hub": a role on the call's task hub (or on "*") is enough; "scheduler": only a role on "*" is. */
  scope: "hub" | "scheduler";
}

const read: Permission = { role: READER, scope: "hub" };
const work: Permission = { role: WORKER, scope: "hub" };
const write: Permission = { role: CONTRIBUTOR, scope: "hub" };
const admin: Permission = { role: CONTRIBUTOR, scope: "scheduler" };

/**
 * Reader: reads of instances, histories, entities and metrics. Worker: what a worker app needs (its
 * work item stream, completions, abandons, releases, the histories it replays) plus the client calls
 * an app makes from inside its functions (start, raise, terminate, suspend, resume, signal, reads);
 * not purge, rewind, restart, entity storage clean-up or forced terminations, which stay with the
 * Contributor. Creating and deleting task hubs is the managed service's control plane: Contributor
 * on the whole scheduler.
 */
export const PERMISSIONS: Record<string, Record<string, Permission>> = {
  TaskHubSidecarService: {
    Hello: read,
    GetInstance: read,
    WaitForInstanceStart: read,
    WaitForInstanceCompletion: read,
    QueryInstances: read,
    ListInstanceIds: read,
    StreamInstanceHistory: read,
    GetEntity: read,
    QueryEntities: read,
    StartInstance: work,
    RaiseEvent: work,
    TerminateInstance: work,
    SuspendInstance: work,
    ResumeInstance: work,
    SignalEntity: work,
    GetWorkItems: work,
    CompleteOrchestratorTask: work,
    CompleteActivityTask: work,
    CompleteEntityTask: work,
    AbandonTaskOrchestratorWorkItem: work,
    AbandonTaskActivityWorkItem: work,
    AbandonTaskEntityWorkItem: work,
    RewindInstance: write,
    RestartInstance: write,
    PurgeInstances: write,
    CleanEntityStorage: write,
    SkipGracefulOrchestrationTerminations: write,
    CreateTaskHub: admin,
    DeleteTaskHub: admin,
  },
  "durabletask.protos.backend.v1.BackendService": {
    Ping: read,
    GetInstance: read,
    GetEntity: read,
    QueryInstances: read,
    QueryEntities: read,
    WaitForInstance: read,
    GetOrchestrationRuntimeState: read,
    StreamInstanceHistory: read,
    GetMetrics: read,
    CreateInstance: work,
    AddEvent: work,
    AddEvents: work,
    GetWorkItems: work,
    CompleteOrchestrationWorkItem: work,
    CompleteOrchestrationWorkItemWithExtendedSession: work,
    AbandonOrchestrationWorkItem: work,
    ReleaseOrchestrationWorkItem: work,
    CompleteActivityWorkItem: work,
    AbandonActivityWorkItem: work,
    CompleteEntityWorkItem: work,
    CompleteEntityWorkItemWithExtendedSession: work,
    AbandonEntityWorkItem: work,
    ReleaseEntityWorkItem: work,
    BeginWorkerDrain: work,
    PurgeInstances: write,
    RestartInstance: write,
    CleanEntityStorage: write,
    SkipGracefulOrchestrationTerminations: write,
  },
  // Our own extension for our own hosts (completion_stream.proto): the BackendService completions, streamed.
  "dts.v1.CompletionStream": {
    CompleteWorkItems: work,
  },
};

/**
 * The dashboard's pages, form actions and JSON API routes, and /metrics: reading a hub is the Reader's,
 * every action (start, terminate, purge...) the Contributor's, so a Reader sees everything and can act
 * on nothing; /metrics covers every hub, so it needs the Reader on the whole scheduler.
 */
export const DASHBOARD_PERMISSIONS = { read, write, metrics: { role: READER, scope: "scheduler" } } as const satisfies Record<string, Permission>;

/** The permission an RPC needs; undefined for one not in the table (the server refuses to start then). */
export function permissionFor(service: string, method: string): Permission | undefined {
  return PERMISSIONS[service]?.[method];
}

/** Does holding `held` allow what `needed` allows? */
export function includes(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** The role named `text` (case and surrounding space ignored), if it names one. */
export function roleNamed(text: string): Role | undefined {
  const t = text.trim().toLowerCase();
  return ROLES.find((r) => r.toLowerCase() === t);
}
