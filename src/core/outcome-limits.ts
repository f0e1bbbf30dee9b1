// The payload and id limits a finished episode must respect, checked once on the engine's own
// outcome form, so a result is judged the same whichever gRPC service delivered it.
import { val } from "./events";
import { checkInstanceId, checkPayload, checkText } from "./limits";
import { EpisodeOutcome } from "./orchestration";

/**
 * Throws RESOURCE_EXHAUSTED (a payload over `limit`) or INVALID_ARGUMENT (a bad sub-orchestration
 * id, or U+0000 in a string the store keeps: names, payloads, execution ids).
 */
export function checkOutcome(outcome: EpisodeOutcome, limit: number): void {
  const self = outcome.instance;
  checkText(self.executionId, "executionId");
  checkPayload(self.customStatus, "customStatus", limit);
  checkPayload(self.output, "orchestration output", limit);
  for (const a of outcome.activities) {
    checkText(a.name, "name of an activity");
    checkText(a.version, `version of activity '${a.name}'`);
    checkPayload(a.input, `input of activity '${a.name}'`, limit);
  }
  // Activities a Functions host ran inline are held to the same limit as those it leaves to workers.
  for (const { scheduled } of outcome.inlineActivities ?? []) checkPayload(val(scheduled.taskScheduled?.input), `input of activity '${scheduled.taskScheduled?.name ?? ""}'`, limit);
  for (const c of outcome.children) {
    checkInstanceId(c.instance.instanceId, "sub-orchestration instanceId");
    checkText(c.instance.name, "name of a sub-orchestration");
    checkText(c.instance.executionId, `executionId of sub-orchestration '${c.instance.instanceId}'`);
    checkPayload(c.instance.input, `input of sub-orchestration '${c.instance.name}'`, limit);
  }
  // A rewind re-creates a child it cannot find: that child's id and start face the same rules.
  for (const c of outcome.rewindChildren) {
    checkInstanceId(c.instanceId, "rewound sub-orchestration instanceId");
    checkText(c.created.name, `name of rewound sub-orchestration '${c.instanceId}'`);
    checkPayload(val(c.created.input), `input of rewound sub-orchestration '${c.instanceId}'`, limit);
  }
  for (const { instanceId, executionId, event: e } of outcome.messages) {
    checkText(executionId, `executionId of a message to '${instanceId}'`);
    if (e.eventRaised) checkPayload(val(e.eventRaised.input), `data of event '${e.eventRaised.name}'`, limit);
    const op = e.entityOperationCalled ?? e.entityOperationSignaled;
    if (op) checkPayload(val(op.input), `input of entity operation '${op.operation}'`, limit);
    // Continue-as-new: the output becomes the next execution's input.
    if (e.executionStarted && instanceId === self.instanceId) {
      checkText(e.executionStarted.name, "name of the orchestration continued as new");
      checkPayload(val(e.executionStarted.input), "orchestration output", limit);
    }
  }
}
