// One activity work item: the input goes to the app's activityTrigger function as `{string: JSON}`
// (so the handler gets the deserialized value) with the orchestration's instance id in the trigger
// metadata; its return value becomes TaskCompleted's JSON result, what it throws TaskFailed. The
// durable HTTP activity is the host's own: it makes the request (durable-http.ts) instead of invoking the app.
import { pb } from "../proto";
import { event, str, val } from "../core/events";
import { HistoryEvent } from "../core/model";
import { FunctionApp } from "./function-app";
import { DurableHttpOptions, executeDurableHttp, HTTP_ACTIVITY_NAME, requestOfAction } from "./durable-http";
import { ACTIVITY_TRIGGER, failureFromError, findFunction, notFoundMessage } from "./functions";
import { parsedText, returnedJson } from "./typed-data";

type CompleteRequest = pb.durabletask.protos.backend.v1.ICompleteActivityWorkItemRequest;

export interface ActivityWorkItem {
  activityRequest: pb.IActivityRequest;
  completionToken: string;
}

export interface ActivityResult {
  request: CompleteRequest;
  name: string;
  succeeded: boolean;
  /** The failure message, for the log line. */
  error?: string;
}

export interface ActivityOptions {
  now?: () => number;
  /** For the durable HTTP activity (token sources). */
  http?: DurableHttpOptions;
}

export async function runActivity(app: FunctionApp, item: ActivityWorkItem, options: ActivityOptions = {}): Promise<ActivityResult> {
  const now = options.now ?? Date.now;
  const a = item.activityRequest;
  const name = a.name ?? "";
  const taskScheduledId = a.taskId ?? 0;
  const instanceId = a.orchestrationInstance?.instanceId ?? "";
  const done = (e: HistoryEvent, error?: string): ActivityResult => ({
    request: { completionToken: item.completionToken, responseEvent: e }, name, succeeded: !e.taskFailed, error,
  });
  const failed = (err: unknown): ActivityResult => {
    const failureDetails = failureFromError(err);
    return done(event(now(), { taskFailed: { taskScheduledId, failureDetails } }), `${failureDetails.errorType}: ${failureDetails.errorMessage}`);
  };

  if (name === HTTP_ACTIVITY_NAME) {
    try {
      const response = await executeDurableHttp(requestOfAction(JSON.parse(val(a.input) ?? "null")), options.http);
      return done(event(now(), { taskCompleted: { taskScheduledId, result: str(JSON.stringify(response)) } }));
    } catch (err) {
      return failed(err);
    }
  }

  const fn = findFunction(app, name, ACTIVITY_TRIGGER);
  if (!fn) {
    const errorMessage = notFoundMessage(app, "activity", name, ACTIVITY_TRIGGER);
    return done(event(now(), { taskFailed: { taskScheduledId, failureDetails: { errorType: "FunctionNotFound", errorMessage, isNonRetriable: true } } }), errorMessage);
  }
  try {
    const input = val(a.input) ?? "null";
    const res = await app.invoke(fn.name, {
      inputData: { [fn.triggerBindingName]: { string: input } },
      trigger: parsedText(input),
      // {json} keeps an instance id such as "123" a string (a {string} would be JSON-parsed to a number).
      triggerMetadata: { instanceId: { json: JSON.stringify(instanceId) } },
    });
    return done(event(now(), { taskCompleted: { taskScheduledId, result: str(returnedJson(res.returnValue)) } }));
  } catch (err) {
    return failed(err);
  }
}

