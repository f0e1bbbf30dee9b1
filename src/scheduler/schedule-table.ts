// A hub's schedules in memory: as the engine sees them (changes included as they are made) and as
// committed (what clients read: never a state a crash could take back). Changes are recorded into
// the operation's Change, so a schedule moves with the instance its occurrence starts.
import { ScheduleRecord } from "../core/schedule";
import { Change } from "./change";

export class ScheduleTable {
  private readonly current = new Map<string, ScheduleRecord>();
  private readonly durable = new Map<string, ScheduleRecord>();

  constructor(private readonly hub: string) {}

  get(scheduleId: string): ScheduleRecord | undefined {
    return this.current.get(scheduleId);
  }

  has(scheduleId: string): boolean {
    return this.current.has(scheduleId);
  }

  get size(): number {
    return this.current.size;
  }

  all(): IterableIterator<ScheduleRecord> {
    return this.current.values();
  }

  /** The committed schedules, by id. */
  committed(): ScheduleRecord[] {
    return [...this.durable.values()].sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : a.scheduleId > b.scheduleId ? 1 : 0));
  }

  committedOne(scheduleId: string): ScheduleRecord | undefined {
    return this.durable.get(scheduleId);
  }

  load(records: ScheduleRecord[]): void {
    for (const r of records) {
      this.current.set(r.scheduleId, r);
      this.durable.set(r.scheduleId, r);
    }
  }

  clear(): void {
    this.current.clear();
    this.durable.clear();
  }

  put(rec: ScheduleRecord, change: Change): void {
    this.current.set(rec.scheduleId, rec);
    change.ops.push({ op: "putSchedule", hub: this.hub, schedule: rec });
    change.after.push(() => void this.durable.set(rec.scheduleId, rec));
  }

  delete(scheduleId: string, change: Change): void {
    this.current.delete(scheduleId);
    change.ops.push({ op: "deleteSchedule", hub: this.hub, scheduleId });
    change.after.push(() => void this.durable.delete(scheduleId));
  }
}
