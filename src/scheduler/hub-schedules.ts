// A hub's schedules: create, pause, resume, delete and read them; and start each occurrence when its
// due time fires on the hub's timer heap, as durable timers do (no polling). An occurrence's
// instance and the schedule's advance past it are one commit, and the instance id is fixed by the
// occurrence (core/schedule.ts), so across a crash an occurrence is started once or not yet, never
// twice; an id that already exists is not started again.
import { SchedulerError, notFound } from "../core/errors";
import { str } from "../core/events";
import { checkPayload } from "../core/limits";
import { afterDowntime, checkSchedule, dueOccurrence, firstOccurrence, occurrenceInstanceId, ScheduleDefinition, ScheduleRecord } from "../core/schedule";
import { log } from "../log/log";
import { Change } from "./change";
import { HubCommit } from "./hub-commit";
import { HubState } from "./hub-state";
import { InstanceLifecycle } from "./lifecycle";
import { EngineOptions } from "./options";

export class HubSchedules {
  constructor(
    private readonly state: HubState,
    private readonly lifecycle: InstanceLifecycle,
    private readonly commit: HubCommit,
    private readonly options: EngineOptions,
  ) {}

  /** The committed schedules, by id. */
  list(): ScheduleRecord[] {
    return this.state.schedules.committed();
  }

  get(scheduleId: string): ScheduleRecord | undefined {
    return this.state.schedules.committedOne(scheduleId);
  }

  /** Creates a schedule; resolves with it once durable. Its first occurrence is the first one after now. */
  create(definition: ScheduleDefinition): Promise<ScheduleRecord> {
    const now = Date.now();
    const d = checkSchedule(definition, now);
    checkPayload(d.input, "input", this.options.maxPayloadBytes);
    if (this.state.schedules.has(d.scheduleId)) {
      throw new SchedulerError("ALREADY_EXISTS", `A schedule with id '${d.scheduleId}' already exists in task hub '${this.state.name}'; delete it first or choose another id`);
    }
    this.commit.admit();
    return this.save(withNext({ ...d, createdAt: now, paused: false }, firstOccurrence(d, now, now)));
  }

  /** Stops starting occurrences until resumed; pausing a paused schedule changes nothing. */
  pause(scheduleId: string): Promise<ScheduleRecord> {
    const r = this.require(scheduleId);
    return r.paused ? Promise.resolve(r) : this.save({ ...r, paused: true });
  }

  /** Starts occurrences again from the first one after now: those that fell while it was paused are not started. */
  resume(scheduleId: string): Promise<ScheduleRecord> {
    const r = this.require(scheduleId);
    return r.paused ? this.save(withNext({ ...r, paused: false }, firstOccurrence(r, r.createdAt, Date.now()))) : Promise.resolve(r);
  }

  /** Deletes the schedule; the instances it started stay. */
  delete(scheduleId: string): Promise<void> {
    this.require(scheduleId);
    const change = new Change();
    this.state.schedules.delete(scheduleId, change);
    return this.commit.run(change);
  }

  /**
   * Arms every schedule after its hub was loaded. `downtime`: the scheduler has just started, so an
   * occurrence already due was missed while it was down and the schedule's catch-up policy decides
   * (one instance, or none); after a reload (a failed commit) a due occurrence simply starts.
   */
  start(now: number, downtime: boolean): void {
    for (const r of [...this.state.schedules.all()]) {
      if (r.paused || r.nextRunAt === undefined) continue;
      if (r.nextRunAt > now) this.state.addTimer(r.nextRunAt, { scheduleId: r.scheduleId });
      else if (!downtime) this.due(r.scheduleId, now);
      else {
        const plan = afterDowntime(r, now)!;
        const missed = `${iso(r.nextRunAt)} to ${iso(plan.latest)}`;
        log.warning(`dts: schedule '${r.scheduleId}' in task hub '${this.state.name}' missed its occurrences from ${missed} while the scheduler was down; ` +
          (plan.start !== undefined ? `starting the latest, ${occurrenceInstanceId(r.scheduleId, plan.start)} (catch-up: once)` : `none is started (catch-up: skip)`) +
          `; next run ${plan.next === undefined ? "none (the schedule has ended)" : iso(plan.next)}`);
        // Unless a client changed the schedule while its occurrence's instance was read.
        this.afterFetch(plan.start, r.scheduleId, () => {
          if (this.state.schedules.get(r.scheduleId) === r) this.advance(r, plan.start, plan.next);
        });
      }
    }
  }

  /** A schedule's due time fired (a hint: the schedule may have moved on, been paused or deleted). */
  due(scheduleId: string, now: number): void {
    const r = this.state.schedules.get(scheduleId);
    if (!r || r.paused) return;
    const due = dueOccurrence(r, now);
    if (!due) return;
    // Once the instance was read later (not at once), the schedule may have moved on: look at it again.
    let fetched = false;
    this.afterFetch(due.at, scheduleId, () => (fetched ? this.due(scheduleId, Date.now()) : this.advance(r, due.at, due.next)));
    fetched = true;
  }

  /**
   * Runs `run` once the instance of the occurrence at `at` (which may exist outside memory) can be
   * read: at once on a store that answers at once; on a failed read, the schedule tries again later.
   */
  private afterFetch(at: number | undefined, scheduleId: string, run: () => void): void {
    const fetched = at === undefined ? undefined : this.state.fetchCold([occurrenceInstanceId(scheduleId, at)]);
    if (!fetched) return run();
    fetched.then(run, (err: Error) => {
      log.error(`dts: schedule '${scheduleId}' in task hub '${this.state.name}' could not read its occurrence's instance (${err.message}); trying again in a second`);
      this.state.addTimer(Date.now() + 1000, { scheduleId });
    });
  }

  /** One commit: the occurrence `start` started (unless its instance exists already) and the schedule moved on to `next`. */
  private advance(r: ScheduleRecord, start: number | undefined, next: number | undefined): void {
    const change = new Change();
    let rec = withNext({ ...r }, next);
    if (start !== undefined) {
      const instanceId = occurrenceInstanceId(r.scheduleId, start);
      // An occurrence of another partition is started there, unless it exists.
      if (!this.state.link.owns(instanceId) || !this.state.current(instanceId)) {
        try {
          this.lifecycle.start({ instanceId, name: r.orchestrationName, input: str(r.input), tags: { schedule: r.scheduleId } }, change, true);
        } catch (err) {
          // Checked at creation, so only a changed limit gets here: the schedule moves on regardless.
          log.error(`dts: schedule '${r.scheduleId}' in task hub '${this.state.name}' could not start ${instanceId}: ${(err as Error).message}`);
        }
      }
      rec = { ...rec, lastRunAt: start, lastInstanceId: instanceId };
    }
    // A failed commit reloads the hub from the store, which arms the schedule again.
    this.save(rec, change).catch(() => undefined);
  }

  /** Commits the record (with whatever else `change` holds); its next occurrence is armed once durable. */
  private save(rec: ScheduleRecord, change = new Change()): Promise<ScheduleRecord> {
    this.state.schedules.put(rec, change);
    change.after.push(() => {
      if (!rec.paused && rec.nextRunAt !== undefined && this.state.schedules.get(rec.scheduleId) === rec) this.state.addTimer(rec.nextRunAt, { scheduleId: rec.scheduleId });
    });
    return this.commit.run(change).then(() => rec);
  }

  private require(scheduleId: string): ScheduleRecord {
    const r = this.state.schedules.get(scheduleId);
    if (!r) throw notFound(`Schedule '${scheduleId}' not found in task hub '${this.state.name}'`);
    return r;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The record with its next occurrence set, or without one once the schedule has ended. */
function withNext(r: ScheduleRecord, next: number | undefined): ScheduleRecord {
  const { nextRunAt: _, ...rest } = r;
  return next === undefined ? rest : { ...rest, nextRunAt: next };
}
