// What a whole HelloCities5 history looks like: one start, the five activities in order each
// scheduled and answered once with its own result, one completion with the five greetings. The
// crash and cluster suites check every history they leave against it.
import { ExecutionCompletedEvent, ExecutionStartedEvent, HistoryEvent, HistoryEventType, TaskCompletedEvent, TaskScheduledEvent } from "@microsoft/durabletask-js";
import { CITIES } from "../bench/workloads";

export const EXPECTED_OUTPUT = CITIES.map((city) => `Hello, ${city}!`);
const IGNORED_IN_HISTORY = new Set<HistoryEventType>([HistoryEventType.OrchestratorStarted, HistoryEventType.OrchestratorCompleted]);

/** What is wrong with one HelloCities5 history (empty when it is whole). */
export function historyProblems(history: HistoryEvent[]): string[] {
  const problems: string[] = [];
  const of = <E extends HistoryEvent>(type: HistoryEventType) => history.filter((e) => e.type === type) as E[];
  const started = of<ExecutionStartedEvent>(HistoryEventType.ExecutionStarted);
  const scheduled = of<TaskScheduledEvent>(HistoryEventType.TaskScheduled);
  const done = of<TaskCompletedEvent>(HistoryEventType.TaskCompleted);
  const completed = of<ExecutionCompletedEvent>(HistoryEventType.ExecutionCompleted);
  const others = history.filter((e) => !IGNORED_IN_HISTORY.has(e.type) && ![HistoryEventType.ExecutionStarted, HistoryEventType.TaskScheduled,
    HistoryEventType.TaskCompleted, HistoryEventType.ExecutionCompleted].includes(e.type));
  if (started.length !== 1) problems.push(`${started.length} ExecutionStarted`);
  if (scheduled.length !== CITIES.length) problems.push(`${scheduled.length} TaskScheduled`);
  if (done.length !== CITIES.length) problems.push(`${done.length} TaskCompleted`);
  if (completed.length !== 1) problems.push(`${completed.length} ExecutionCompleted`);
  if (others.length) problems.push(`unexpected events: ${others.map((e) => e.type).join(", ")}`);
  if (started[0] && started[0].name !== "helloCities") problems.push(`started ${started[0].name}`);
  // The five activities, in order, each once.
  const inputs = scheduled.map((e) => (e.input === undefined ? undefined : JSON.parse(e.input)));
  if (JSON.stringify(inputs) !== JSON.stringify(CITIES)) problems.push(`scheduled inputs ${JSON.stringify(inputs)}`);
  if (scheduled.some((e) => e.name !== "sayHello")) problems.push(`scheduled names ${scheduled.map((e) => e.name).join(",")}`);
  const scheduledIds = scheduled.map((e) => e.eventId);
  if (new Set(scheduledIds).size !== scheduledIds.length) problems.push(`TaskScheduled eventIds not distinct: ${scheduledIds}`);
  // Each completion answers one scheduled task, none twice, and carries that task's result.
  const answered = done.map((e) => e.taskScheduledId);
  if (new Set(answered).size !== answered.length) problems.push(`TaskCompleted taskScheduledIds not distinct: ${answered}`);
  if ([...answered].sort((a, b) => a - b).join() !== [...scheduledIds].sort((a, b) => a - b).join()) {
    problems.push(`TaskCompleted taskScheduledIds ${answered} do not match TaskScheduled eventIds ${scheduledIds}`);
  }
  for (const d of done) {
    const task = scheduled.find((e) => e.eventId === d.taskScheduledId);
    const want = task?.input === undefined ? undefined : JSON.stringify(`Hello, ${JSON.parse(task.input)}!`);
    if (task && d.result !== want) problems.push(`task ${d.taskScheduledId} result ${d.result}, expected ${want}`);
  }
  if (completed[0]) {
    const c = completed[0];
    if (c.result === undefined || JSON.stringify(JSON.parse(c.result)) !== JSON.stringify(EXPECTED_OUTPUT)) problems.push(`ExecutionCompleted result ${c.result}`);
    // Nothing but the episode's closing OrchestratorCompleted may follow the end.
    const after = history.slice(history.indexOf(c) + 1).filter((e) => !IGNORED_IN_HISTORY.has(e.type));
    if (after.length) problems.push(`events after ExecutionCompleted: ${after.map((e) => e.type).join(", ")}`);
  }
  if (started[0] && history.slice(0, history.indexOf(started[0])).some((e) => !IGNORED_IN_HISTORY.has(e.type))) {
    problems.push("events before ExecutionStarted");
  }
  return problems;
}

