// dts.v1.CompletionStream: a host's completions over one long-lived stream instead of a unary call
// each. Each completion goes through the same commit path as its BackendService RPC, and its
// acknowledgement is written only once that resolves, i.e. after the durable commit; a refusal
// carries the status the unary call would have ended with. Acknowledgements follow commit order,
// not arrival order: the id pairs them.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";
import { invalid } from "../core/errors";
import { Scheduler } from "../scheduler/scheduler";
import { TaskHub } from "../scheduler/task-hub";
import { COMPLETE } from "./backend-service";
import { failStream, toServiceError } from "./errors";
import { hubName } from "./hub-call";

type Completion = pb.dts.v1.IWorkItemCompletion;
type Ack = pb.dts.v1.IWorkItemCompletionAck;

export function completionStreamHandlers(scheduler: Scheduler): grpc.UntypedServiceImplementation {
  return {
    CompleteWorkItems: (call: grpc.ServerDuplexStream<Completion, Ack>) => {
      let hub: TaskHub;
      try {
        hub = scheduler.hub(hubName(call.metadata));
      } catch (e) {
        failStream(call, e);
        return;
      }
      let pending = 0;
      let ended = false;
      const finish = () => {
        if (ended && pending === 0 && !call.cancelled) call.end();
      };
      call.on("data", (m: Completion) => {
        pending++;
        const id = m.id ?? 0;
        apply(m, hub).then(
          () => ({ id }),
          (e) => {
            const s = toServiceError(e);
            return { id, code: s.code ?? grpc.status.UNKNOWN, details: s.details ?? "" };
          },
        ).then((ack) => {
          pending--;
          if (!call.cancelled) call.write(ack);
          finish();
        });
      });
      call.on("end", () => {
        ended = true;
        finish();
      });
    },
  };
}

/** The completion's commit, as its unary RPC makes it; a message with none set is refused. */
async function apply(m: Completion, hub: TaskHub): Promise<void> {
  if (m.orchestration) return COMPLETE.orchestration(m.orchestration, hub);
  if (m.activity) return COMPLETE.activity(m.activity, hub);
  if (m.entity) return COMPLETE.entity(m.entity, hub);
  throw invalid("a WorkItemCompletion must carry an orchestration, activity or entity completion");
}
