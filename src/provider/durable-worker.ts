// The durable work-item loop the local Functions host starts: connects to the scheduler's
// BackendService, asks for orchestrator, activity and entity work within host.json's
// maxConcurrent*Functions, runs each item through its bridge (several at once, up to those limits),
// completes it, and logs one line per invocation. An item that cannot be processed is abandoned
// (the scheduler re-dispatches it later) with the reason logged; nothing an item does stops the loop.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";
import { findExecutionStarted } from "../core/events";
import { FunctionApp } from "./function-app";
import { ActivityResult, runActivity } from "./activity-bridge";
import { BackendClient, BackendClientOptions } from "./backend-client";
import { DEFAULT_INLINE_ACTIVITY_WAIT_MS, ProviderConfig } from "./config";
import { TokenSource, TokenSourceCache, tokenSourceFor } from "./credentials";
import { HTTP_ACTIVITY_NAME } from "./durable-http";
import { JsonHistories } from "./history-json";
import { runEntity } from "./entity-bridge";
import { ACTIVITY_TRIGGER, findFunction } from "./functions";
import { runGrpcEntity } from "./grpc-entity-bridge";
import { runGrpcOrchestration } from "./grpc-orchestration-bridge";
import { runEpisodes } from "./continued-episodes";
import { InlineActivities } from "./inline-activities";
import { runOrchestration } from "./orchestration-bridge";
import { DurableProtocol, PROTOCOL_NAMES } from "./protocol";

export interface DurableWorkerOptions {
  log?: (line: string) => void;
  /** Replaces the connection string's credential (tests). */
  tokenSource?: TokenSource;
  /** Tokens for durable HTTP's token sources (default: DefaultAzureCredential, made on first use). */
  httpTokens?: TokenSourceCache;
  /** How long stop() waits for running invocations (default 30 s). */
  drainTimeoutMs?: number;
  /** Overrides of the gRPC client's retry and reconnect timing (tests). */
  client?: Partial<Pick<BackendClientOptions, "retry" | "reconnect" | "silenceMs">>;
  /** How the app's durable functions take their work items (default: durable-functions 3's JSON). */
  protocol?: DurableProtocol;
  /** The work item stream opened (first time or again): work can flow. */
  onConnect?(): void;
  /** The work item stream was lost; it is reopened after a delay. */
  onDisconnect?(reason: string): void;
  /** Told when a work item arrives, when its completion is sent and when the scheduler answers it (the benchmark's per-step trace). */
  trace?(moment: WorkItemMoment, token: string): void;
}

export type WorkItemMoment = "received" | "sent" | "answered";

export interface DurableWorker {
  stop(): Promise<void>;
}

type Kind = "orchestration" | "activity" | "entity";
/** How log lines name each kind of invocation (the function kinds, as `func start` does). */
const NOUN: Record<Kind, string> = { orchestration: "orchestrator", activity: "activity", entity: "entity" };

export async function startDurableWorker(app: FunctionApp, config: ProviderConfig, options: DurableWorkerOptions = {}): Promise<DurableWorker> {
  const log = options.log ?? ((line: string) => console.log(line));
  const say = (line: string) => log(`[durable] ${line}`);
  for (const w of config.warnings) say(w);
  const endpoint = config.connection.endpoint;
  const tokenSource = options.tokenSource ?? tokenSourceFor(config.connection);
  const httpTokens = options.httpTokens ?? new TokenSourceCache();
  const client = new BackendClient({ endpoint, taskHub: config.hubName, tokenSource, log: say, ...options.client });

  // Hello: a wrong hub or credential should stop the host with a clear message; an unreachable
  // scheduler (maybe still starting) only warns, since the stream keeps retrying.
  try {
    await client.call("Ping", {});
  } catch (err) {
    const e = err as grpc.ServiceError;
    const what = `the Durable Task Scheduler at ${endpoint} (task hub '${config.hubName}')`;
    if (e.code !== grpc.status.UNAVAILABLE && e.code !== grpc.status.DEADLINE_EXCEEDED) {
      client.close();
      throw new Error(`Cannot use ${what}: ${e.details || e.message}`);
    }
    say(`${what} is not reachable yet (${e.details || e.message}); will keep trying`);
  }

  const grpcProtocol = options.protocol === "grpc";
  const orchestrate = grpcProtocol ? runGrpcOrchestration : runOrchestration;
  const runBatch = grpcProtocol ? runGrpcEntity : runEntity;

  const limits: Record<Kind, number> = {
    orchestration: config.maxConcurrentOrchestratorFunctions,
    activity: config.maxConcurrentActivityFunctions,
    entity: config.maxConcurrentEntityFunctions,
  };
  const running: Record<Kind, number> = { orchestration: 0, activity: 0, entity: 0 };
  const queued: Record<Kind, pb.WorkItem[]> = { orchestration: [], activity: [], entity: [] };
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let draining = false;
  const track = (p: Promise<unknown>) => {
    const done = () => void inFlight.delete(settled);
    const settled: Promise<void> = p.then(done, done);
    inFlight.add(settled);
  };

  const runActivityItem = (activityRequest: pb.IActivityRequest, completionToken: string) =>
    runActivity(app, { activityRequest, completionToken }, { http: { tokens: httpTokens } });
  const maxWaitMs = config.inlineActivityMaxWaitMs ?? DEFAULT_INLINE_ACTIVITY_WAIT_MS;
  const inline = maxWaitMs > 0 ? new InlineActivities({
    maxWaitMs,
    runnable: (name) => name !== HTTP_ACTIVITY_NAME && findFunction(app, name, ACTIVITY_TRIGGER) !== undefined,
    run: (activityRequest) => runActivityItem(activityRequest, ""),
    payloadLimit: () => client.continuedEpisodesLimit,
    takeSlots: (n) => {
      if (running.activity + n > limits.activity) return 0;
      running.activity += n;
      return n;
    },
    releaseSlot: () => {
      running.activity--;
      pump("activity");
    },
    track,
  }) : undefined;

  const pump = (kind: Kind) => {
    while (!stopping && running[kind] < limits[kind] && queued[kind].length > 0) {
      const item = queued[kind].shift()!;
      running[kind]++;
      track(handle(kind, item).finally(() => {
        running[kind]--;
        pump(kind);
      }));
    }
  };

  const handle = async (kind: Kind, item: pb.WorkItem): Promise<void> => {
    const started = Date.now();
    const ms = () => `${Date.now() - started} ms`;
    const label = describe(item);
    let completing = false;
    try {
      if (kind === "orchestration") {
        const bridge = { httpPollMs: config.httpAsyncSleepMs, histories: new JsonHistories() };
        const run = (orchestratorRequest: pb.IOrchestratorRequest) => orchestrate(app, { orchestratorRequest, completionToken: item.completionToken }, bridge);
        const first = await run(item.orchestratorRequest!);
        // Not while draining: the activities go to the scheduler, for the hosts that stay.
        const runsInline = inline && !draining && client.completionStreamOffered ? inline : undefined;
        const done = await runEpisodes(item.orchestratorRequest!, first, {
          fold: runsInline ? (request) => runsInline.fold(request) : async (request) => ({ request, ran: [], outlived: 0 }),
          run, limit: client.continuedEpisodesLimit, historyLimit: client.continuedEpisodesHistoryLimit, budgetMs: maxWaitMs,
        });
        completing = true;
        await complete("orchestration", item, done.request);
        done.episodes.forEach((e, i) => {
          const r = e.result;
          const what = r.outcome === "running" ? ` (${scheduledWork(e.request, e.ran.length, e.outlived)})` : "";
          say(`orchestrator ${label}: ${r.outcome}${what} in ${done.episodes.length === 1 ? ms() : `${e.ms} ms`}${i > 0 ? ", continued" : ""}${notes(r.notes)}`);
          for (const x of e.ran) say(`activity ${activityLabel(x.request)}: ${outcomeOf(x.result)} in ${x.ms} ms, inline`);
        });
        if (done.stopped) say(`orchestrator ${label}: its next episode was not continued on this host (${done.stopped}); the scheduler dispatches it as a work item`);
      } else if (kind === "activity") {
        // A run this host started inline, which outlived its episode's wait, is this item's result.
        const claimed = inline?.claim(item.activityRequest!);
        const r = await (claimed ?? runActivityItem(item.activityRequest!, item.completionToken));
        if (!claimed) inline?.observe(r.name, Date.now() - started);
        completing = true;
        await complete("activity", item, claimed ? { ...r.request, completionToken: item.completionToken } : r.request);
        say(`activity ${label}: ${outcomeOf(r)} in ${ms()}${claimed ? ", its inline run's result" : ""}`);
      } else {
        const r = await runBatch(app, { entityRequestV2: item.entityRequestV2!, completionToken: item.completionToken });
        completing = true;
        await complete("entity", item, r.request);
        say(`entity ${label}: ${r.operations} operation(s)${r.failedOperations ? `, ${r.failedOperations} failed` : ""} in ${ms()}${notes(r.notes)}`);
      }
    } catch (err) {
      const e = err as grpc.ServiceError;
      // A stale token (lock lost, stream reconnected, instance gone) cannot be abandoned either.
      if (completing && e.code === grpc.status.NOT_FOUND) {
        say(`${NOUN[kind]} ${label}: result not accepted after ${ms()} (${e.details}); the scheduler re-dispatches it`);
        return;
      }
      const reason = `${completing ? "completing it failed: " : ""}${e.details || (err as Error).message || String(err)}`;
      say(`${NOUN[kind]} ${label}: abandoned after ${ms()}: ${reason}`);
      await abandon(kind, item, reason);
    }
  };

  /** Completes the item (the trace hears when it was sent and when the scheduler answered). */
  const complete = async (kind: Kind, item: pb.WorkItem, request: object) => {
    options.trace?.("sent", item.completionToken);
    await client.complete(kind, request);
    options.trace?.("answered", item.completionToken);
  };

  const abandon = async (kind: Kind, item: pb.WorkItem, reason: string) => {
    const method = kind === "orchestration" ? "AbandonOrchestrationWorkItem" : kind === "activity" ? "AbandonActivityWorkItem" : "AbandonEntityWorkItem";
    try {
      await client.call(method, kind === "entity" ? { completionToken: item.completionToken, reason } : { completionToken: item.completionToken });
    } catch (err) {
      say(`${NOUN[kind]} ${describe(item)}: abandoning failed too (${(err as grpc.ServiceError).details || (err as Error).message})`);
    }
  };

  const onItem = (item: pb.WorkItem) => {
    if (item.healthPing) return;
    options.trace?.("received", item.completionToken);
    const kind: Kind | undefined = item.orchestratorRequest ? "orchestration" : item.activityRequest ? "activity" : item.entityRequestV2 ? "entity" : undefined;
    if (!kind) {
      // EntityBatchRequest (V1) carries no reply addresses; this scheduler sends V2.
      say(`work item ${item.request ?? "of an unknown kind"} is not supported; abandoning it`);
      if (item.entityRequest) void abandon("entity", item, "entityRequest (V1) work items are not supported by this worker");
      return;
    }
    queued[kind].push(item);
    pump(kind);
  };

  const stream = client.streamWorkItems({
    maxConcurrentOrchestrationWorkItems: limits.orchestration,
    maxConcurrentActivityWorkItems: limits.activity,
    maxConcurrentEntityWorkItems: limits.entity,
  }, { onItem, onConnect: options.onConnect, onDisconnect: options.onDisconnect });
  say(`worker ${client.workerId} listening to task hub '${config.hubName}' at ${endpoint} (at most ${limits.orchestration} orchestrator, ${limits.activity} activity, ${limits.entity} entity invocations at once), ${PROTOCOL_NAMES[options.protocol ?? "json"]}`);

  let stopped: Promise<void> | undefined;
  return {
    stop: () => (stopped ??= (async () => {
      // Ask for no more work, let running invocations complete, then hang up; queued items go back to the scheduler.
      draining = true;
      await client.call("BeginWorkerDrain", {}).catch(() => undefined);
      stopping = true;
      const timeout = options.drainTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout))),
      ]);
      if (timer) clearTimeout(timer);
      stream.close();
      client.close();
    })()),
  };
}

function describe(item: pb.WorkItem): string {
  if (item.orchestratorRequest) {
    const r = item.orchestratorRequest;
    const started = findExecutionStarted(r.pastEvents ?? [], r.newEvents ?? []);
    return `'${started?.name ?? "?"}' (instance '${r.instanceId}')`;
  }
  if (item.activityRequest) return activityLabel(item.activityRequest);
  if (item.entityRequestV2) return `'${item.entityRequestV2.instanceId}'`;
  return "(unknown)";
}

function activityLabel(a: pb.IActivityRequest): string {
  return `'${a.name}' (instance '${a.orchestrationInstance?.instanceId ?? ""}', task ${a.taskId})`;
}

function outcomeOf(r: ActivityResult): string {
  return r.succeeded ? "succeeded" : `failed (${r.error})`;
}

/** "scheduled 2 activities, 1 timer" / "ran 1 activity inline" / "waiting": what a running episode started. */
function scheduledWork(req: pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest, ranInline: number, stillRunning: number): string {
  const messages = req.newMessages ?? [];
  const self = req.instance?.instanceId;
  const counts: [number, string, string][] = [
    [req.newTasks?.length ?? 0, "activity", "activities"],
    [req.newTimers?.length ?? 0, "timer", "timers"],
    [messages.filter((m) => m.event?.executionStarted && m.instance?.instanceId !== self).length, "sub-orchestration", "sub-orchestrations"],
    [messages.filter((m) => m.instance?.instanceId?.startsWith("@")).length, "entity message", "entity messages"],
  ];
  const parts = counts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  const said = [
    ...(parts.length > 0 ? [`scheduled ${parts.join(", ")}`] : []),
    ...(stillRunning > 0 ? [`${stillRunning} of them still running inline`] : []),
    ...(ranInline > 0 ? [`ran ${ranInline} ${ranInline === 1 ? "activity" : "activities"} inline`] : []),
  ];
  return said.length > 0 ? said.join("; ") : "waiting";
}

function notes(list: string[]): string {
  return list.length > 0 ? ` [${list.join("; ")}]` : "";
}
