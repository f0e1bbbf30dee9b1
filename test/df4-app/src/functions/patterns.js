// The orchestration patterns the tests drive over HTTP: sub-orchestrations, an event raced against
// a timer, an activity raced against a timer, continue-as-new, custom status, retries, large
// outputs, replay flags and durable HTTP.
const df = require("durable-functions");

df.app.orchestration("Parent", function* (context) {
  const child = yield context.df.callSubOrchestrator("HelloCities", undefined, `${context.df.instanceId}-child`);
  return { child, parent: context.df.instanceId };
});

// Human interaction: "Approval" against a timer of input.timeoutSeconds.
df.app.orchestration("ApprovalWorkflow", function* (context) {
  const input = context.df.getInput() || {};
  context.df.setCustomStatus({ stage: "WaitingForApproval" });
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + (input.timeoutSeconds || 3600) * 1000);
  const timeout = context.df.createTimer(deadline);
  const approval = context.df.waitForExternalEvent("Approval");
  const winner = yield context.df.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    context.df.setCustomStatus({ stage: "Approved" });
    return { status: "Approved", by: approval.result };
  }
  context.df.setCustomStatus({ stage: "TimedOut" });
  return { status: "TimedOut" };
});

df.app.activity("Sleep", { handler: (ms) => new Promise((resolve) => setTimeout(() => resolve(`slept ${ms} ms`), ms)) });

// An activity of input.activityMs against a timer of input.timerSeconds: whichever ends first wins.
df.app.orchestration("ActivityTimerRace", function* (context) {
  const input = context.df.getInput();
  const timer = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + input.timerSeconds * 1000));
  const work = context.df.callActivity("Sleep", input.activityMs);
  const winner = yield context.df.Task.any([work, timer]);
  if (winner === work) {
    timer.cancel();
    return { winner: "activity", result: work.result };
  }
  return { winner: "timer" };
});

// Counts down by continuing as new; the custom status shows the generation.
df.app.orchestration("Countdown", function* (context) {
  const n = context.df.getInput();
  context.df.setCustomStatus({ remaining: n });
  if (n > 0) {
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 10));
    context.df.continueAsNew(n - 1);
    return undefined;
  }
  return "liftoff";
});

// Fails on its first two attempts for an instance, succeeds on the third.
const attempts = new Map();
df.app.activity("Flaky", {
  handler: (key) => {
    const n = (attempts.get(key) || 0) + 1;
    attempts.set(key, n);
    if (n < 3) throw new Error(`attempt ${n} failed`);
    return { attempts: n };
  },
});

df.app.orchestration("RetryWorkflow", function* (context) {
  const retry = new df.RetryOptions(200, 5);
  return yield context.df.callActivityWithRetry("Flaky", retry, context.df.instanceId);
});

df.app.activity("FailAlways", { handler: (message) => { throw new Error(message); } });

df.app.orchestration("FailingWorkflow", function* (context) {
  return yield context.df.callActivity("FailAlways", context.df.getInput() || "boom");
});

df.app.activity("MakeBlob", { handler: (bytes) => "x".repeat(bytes) });

// An output of input bytes, made by an activity.
df.app.orchestration("LargeOutput", function* (context) {
  return yield context.df.callActivity("MakeBlob", context.df.getInput());
});

// What isReplaying said before and after each of three activities, in the final episode.
df.app.orchestration("ReplayProbe", function* (context) {
  const flags = [context.df.isReplaying];
  for (let i = 0; i < 3; i++) {
    yield context.df.callActivity("SayHello", `step ${i}`);
    flags.push(context.df.isReplaying);
  }
  return flags;
});

// Waits for "Go", then ends; for suspend/resume/terminate/rewind tests.
df.app.orchestration("WaitForGo", function* (context) {
  const value = yield context.df.waitForExternalEvent("Go");
  if (value && value.fail) yield context.df.callActivity("FailOnce", context.df.instanceId);
  return { went: value };
});

const failedOnce = new Set();
df.app.activity("FailOnce", {
  handler: (key) => {
    if (failedOnce.has(key)) return "fine now";
    failedOnce.add(key);
    throw new Error(`first run of ${key} fails`);
  },
});

// Durable HTTP: input { url, method?, body? }.
df.app.orchestration("HttpCall", function* (context) {
  const input = context.df.getInput();
  const res = yield context.df.callHttp({ method: input.method || "GET", url: input.url, body: input.body });
  return { statusCode: res.statusCode, content: res.content };
});
