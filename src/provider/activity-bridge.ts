// One activity work item: the input goes to the app's activityTrigger function as `{string: JSON}`
// (so the handler gets the deserialized value) with the orchestration's instance id in the trigger
// metadata; its return value becomes TaskCompleted's JSON result, what it throws TaskFailed.
import { pb } from "../proto";
import { event, str, val } from "../core/events";
import { HistoryEvent } from "../core/model";
import { FunctionApp } from "../host/function-app";
import { ACTIVITY_TRIGGER, failureFromError, findFunction, notFoundMessage } from "./functions";
import { returnedJson } from "./typed-data";

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

export async function runActivity(app: FunctionApp, item: ActivityWorkItem, now: () => number = Date.now): Promise<ActivityResult> {
  const a = item.activityRequest;
  const name = a.name ?? "";
  const taskScheduledId = a.taskId ?? 0;
  const instanceId = a.orchestrationInstance?.instanceId ?? "";
  const done = (e: HistoryEvent, error?: string): ActivityResult => ({
    request: { completionToken: item.completionToken, responseEvent: e }, name, succeeded: !e.taskFailed, error,
  });

  const fn = findFunction(app, name, ACTIVITY_TRIGGER);
  if (!fn) {
    const errorMessage = notFoundMessage(app, "activity", name, ACTIVITY_TRIGGER);
    return done(event(now(), { taskFailed: { taskScheduledId, failureDetails: { errorType: "FunctionNotFound", errorMessage, isNonRetriable: true } } }), errorMessage);
  }
  try {
    const res = await app.invoke(fn.name, {
      inputData: { [fn.triggerBindingName]: { string: val(a.input) ?? "null" } },
      // {json} keeps an instance id such as "123" a string (a {string} would be JSON-parsed to a number).
      triggerMetadata: { instanceId: { json: JSON.stringify(instanceId) } },
    });
    return done(event(now(), { taskCompleted: { taskScheduledId, result: str(returnedJson(res.returnValue)) } }));
  } catch (err) {
    const failureDetails = failureFromError(err);
    return done(event(now(), { taskFailed: { taskScheduledId, failureDetails } }), `${failureDetails.errorType}: ${failureDetails.errorMessage}`);
  }
}

