// dts.v1.CompletionStream: a host's completions over one long-lived stream instead of a unary call
// each. Each completion goes through the same commit path as its BackendService RPC, and its
// acknowledgement is written only once that resolves, i.e. after the durable commit; a refusal
// carries the status the unary call would have ended with. Acknowledgements follow commit order,
// not arrival order: the id pairs them.
import * as grpc from "@grpc/grpc-js";
import { pb } from "../proto";
import { invalid } from "../core/errors";
import { Scheduler } from "../scheduler/scheduler";
import { Hub } from "../scheduler/hub";
import { COMPLETE } from "./backend-service";
import { failStream, toServiceError } from "./errors";
import { hubName } from "./hub-call";

type Completion = pb.dts.v1.IWorkItemCompletion;
type Ack = pb.dts.v1.IWorkItemCompletionAck;
type Acks = pb.dts.v1.IWorkItemCompletionAcks;

export function completionStreamHandlers(scheduler: Scheduler): grpc.UntypedServiceImplementation {
  return {
    CompleteWorkItems: (call: grpc.ServerDuplexStream<Completion, Acks>) => {
      const name = hubName(call.metadata);
      try {
        scheduler.hub(name);
      } catch (e) {
        failStream(call, e);
        return;
      }
      let pending = 0;
      let ended = false;
      // Acknowledgements settled together (one group commit settles many) go out as one message.
      let ready: Ack[] = [];
      const flush = () => {
        const acks = ready;
        ready = [];
        if (!call.cancelled) call.write({ acks });
        if (ended && pending === 0 && !call.cancelled) call.end();
      };
      call.on("data", (m: Completion) => {
        pending++;
        const id = m.id ?? 0;
        // The hub is looked up for each completion, as each unary call does: one deleted, or being
        // reloaded after a failed commit, refuses it rather than taking it on stale state.
        new Promise<void>((resolve) => resolve(apply(m, scheduler.hub(name)))).then(
          (): Ack => ({ id }),
          (e): Ack => {
            const s = toServiceError(e);
            return { id, code: s.code ?? grpc.status.UNKNOWN, details: s.details ?? "" };
          },
        ).then((ack) => {
          pending--;
          if (ready.push(ack) === 1) process.nextTick(flush);
        });
      });
      call.on("end", () => {
        ended = true;
        if (pending === 0 && ready.length === 0 && !call.cancelled) call.end();
      });
    },
  };
}

/** The completion's commit, as its unary RPC makes it; a message with none set is refused. */
async function apply(m: Completion, hub: Hub): Promise<void> {
  if (m.orchestration) return COMPLETE.orchestration(m.orchestration, hub);
  if (m.activity) return COMPLETE.activity(m.activity, hub);
  if (m.entity) return COMPLETE.entity(m.entity, hub);
  throw invalid("a WorkItemCompletion must carry an orchestration, activity or entity completion");
}
