// Inline activities. When the scheduler is ours (it offers the completion stream), the host runs the
// activities an orchestrator episode has just scheduled itself, at once, and sends their results with
// the episode's completion as TaskCompleted/TaskFailed messages to the instance itself: one commit for
// the episode and its activities, where each activity would otherwise take a dispatch, a completion
// and a commit of its own before the orchestration's next episode.
//
// What stays as it was:
// - the history: the same TaskScheduled and TaskCompleted/TaskFailed events, with the activity's own
//   result time;
// - the order an orchestration sees: the results join its inbox when the episode commits, behind
//   anything that arrived while they ran, as if a worker had answered just then;
// - at-least-once: an activity may run before its TaskScheduled is durable; if the episode's
//   completion is lost, the episode runs again and schedules it again, as a lost activity result would.
//
// Only when the episode goes on running and all its new activities qualify: each is one of the app's
// own functions (not durable HTTP's built-in request) whose last run took at most half the wait, and
// there is a free activity slot for each (host.json's maxConcurrentActivityFunctions counts inline
// runs too). What outlives the wait goes to
// the scheduler as usual (newTasks) while its run goes on here; the work item for it, when it comes to
// this host, takes that run's result instead of running the activity a second time.
import { pb } from "../proto";
import { payloadBytes } from "../core/limits";
import { Status } from "../core/model";
import { ActivityResult } from "./activity-bridge";

type EpisodeRequest = pb.durabletask.protos.backend.v1.ICompleteOrchestrationWorkItemRequest;

export interface InlineActivityOptions {
  /** How long an episode's completion waits for its inline activities. */
  maxWaitMs: number;
  /** Whether this host may run the activity (the app has it, and it is not a built-in). */
  runnable(name: string): boolean;
  run(request: pb.IActivityRequest): Promise<ActivityResult>;
  /** Takes `n` free activity slots, or none when fewer are free; says how many it took. Each is given back once its run ends. */
  takeSlots(n: number): number;
  releaseSlot(): void;
  /** The scheduler's payload limit, when known: an activity whose input is over it is not run (the scheduler refuses the episode). */
  payloadLimit?(): number | undefined;
  /** A run that outlived the wait (stop() waits for it as for any invocation). */
  track(run: Promise<unknown>): void;
  /** How long an outlived run's result waits for its work item (default 10 minutes). */
  keepMs?: number;
  now?: () => number;
}

/** An activity run inline whose result went with the episode. */
export interface InlineRun {
  request: pb.IActivityRequest;
  result: ActivityResult;
  ms: number;
}

export interface FoldedEpisode {
  request: EpisodeRequest;
  ran: InlineRun[];
  /** Runs that outlived the wait: their tasks stay in newTasks. */
  outlived: number;
}

export class InlineActivities {
  /** Each activity's last run time (inline or from a work item), by name. */
  private readonly lastMs = new Map<string, number>();
  /** Runs that outlived the wait, by activityKey, until their work item takes them. */
  private readonly kept = new Map<string, Promise<ActivityResult>>();
  private readonly now: () => number;

  constructor(private readonly options: InlineActivityOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A run of the activity from a work item took `ms`. */
  observe(name: string, ms: number): void {
    this.lastMs.set(name, ms);
  }

  /** Runs what it may of the episode's new activities and moves the results that came in time into its completion. */
  async fold(request: EpisodeRequest): Promise<FoldedEpisode> {
    const tasks = request.newTasks ?? [];
    const none: FoldedEpisode = { request, ran: [], outlived: 0 };
    if (tasks.length === 0 || (request.runtimeStatus ?? Status.ORCHESTRATION_STATUS_RUNNING) !== Status.ORCHESTRATION_STATUS_RUNNING) return none;
    // All or none: holding back part of a fan-out would delay the rest, which other hosts could be running.
    const limit = this.options.payloadLimit?.() ?? Infinity;
    if (!tasks.every((t) => t.taskScheduled && this.fast(t.taskScheduled.name ?? "") && payloadBytes(t.taskScheduled.input?.value) <= limit)) return none;
    if (this.options.takeSlots(tasks.length) < tasks.length) return none;

    const instance = request.instance ?? {};
    const runs = tasks.map((t) => {
      const activity: pb.IActivityRequest = {
        name: t.taskScheduled!.name, version: t.taskScheduled!.version, input: t.taskScheduled!.input, taskId: t.eventId,
        orchestrationInstance: { instanceId: instance.instanceId, executionId: instance.executionId },
        parentTraceContext: t.taskScheduled!.parentTraceContext,
      };
      const started = this.now();
      const run: { activity: pb.IActivityRequest; promise: Promise<ActivityResult>; result?: ActivityResult; ms: number } = { activity, ms: 0, promise: undefined! };
      run.promise = this.options.run(activity).then((result) => {
        run.result = result;
        run.ms = this.now() - started;
        this.lastMs.set(activity.name ?? "", run.ms);
        return result;
      }).finally(() => this.options.releaseSlot());
      return run;
    });

    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(runs.map((r) => r.promise.catch(() => undefined))),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.maxWaitMs))),
    ]);
    clearTimeout(timer);

    const done = runs.filter((r) => r.result);
    const outlived = runs.filter((r) => !r.result);
    for (const r of outlived) {
      // Slow this time: not inline again until a run of it is fast (a work item's run counts too).
      this.lastMs.set(r.activity.name ?? "", this.options.maxWaitMs);
      this.keep(r.activity, r.promise);
    }
    if (done.length === 0) return { request, ran: [], outlived: outlived.length };
    const folded = new Set(done.map((r) => r.activity.taskId));
    return {
      request: {
        ...request,
        newTasks: tasks.filter((t) => !folded.has(t.eventId)),
        newMessages: [
          ...(request.newMessages ?? []),
          ...done.map((r) => ({ instance: { instanceId: instance.instanceId, executionId: instance.executionId }, event: r.result!.request.responseEvent })),
        ],
      },
      ran: done.map((r) => ({ request: r.activity, result: r.result!, ms: r.ms })),
      outlived: outlived.length,
    };
  }

  /** The inline run of the work item's activity, when one outlived its episode's wait; it is handed out once. */
  claim(activity: pb.IActivityRequest): Promise<ActivityResult> | undefined {
    const key = activityKey(activity);
    const run = this.kept.get(key);
    if (run) this.kept.delete(key);
    return run;
  }

  private fast(name: string): boolean {
    return this.options.runnable(name) && (this.lastMs.get(name) ?? 0) <= this.options.maxWaitMs / 2;
  }

  private keep(activity: pb.IActivityRequest, run: Promise<ActivityResult>): void {
    const key = activityKey(activity);
    this.kept.set(key, run);
    // Not claimed in time (its work item went to another host, or the instance ended): let it go.
    const forget = () => {
      const timer = setTimeout(() => {
        if (this.kept.get(key) === run) this.kept.delete(key);
      }, this.options.keepMs ?? 600_000);
      timer.unref();
    };
    this.options.track(run.then(forget, forget));
  }
}

function activityKey(a: pb.IActivityRequest): string {
  return `${a.orchestrationInstance?.instanceId ?? ""}\n${a.orchestrationInstance?.executionId?.value ?? ""}\n${a.taskId ?? 0}`;
}
