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
import { backendDefinition } from "../proto/services";
import { COMPLETE } from "./backend-service";
import { asStatus, ClusterRoutes, withRequest } from "./cluster-routes";
import { failStream } from "./errors";
import { hubName } from "./hub-call";
import { routeKeyOf } from "./route-keys";

type Completion = pb.dts.v1.IWorkItemCompletion;
type Ack = pb.dts.v1.IWorkItemCompletionAck;
type Acks = pb.dts.v1.IWorkItemCompletionAcks;

/** The unary RPC each kind of completion stands for (a completion for another node's partition is passed on as it). */
const UNARY = { orchestration: "CompleteOrchestrationWorkItem", activity: "CompleteActivityWorkItem", entity: "CompleteEntityWorkItem" } as const;

export function completionStreamHandlers(scheduler: Scheduler, routes?: ClusterRoutes): grpc.UntypedServiceImplementation {
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
        new Promise<unknown>((resolve) => resolve(routes ? routed(m, routes, call, () => apply(m, scheduler.hub(name))) : apply(m, scheduler.hub(name)))).then(
          (): Ack => ({ id }),
          (e): Ack => {
            const s = asStatus(e);
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

/** In a cluster: the completion as its unary RPC is routed (here, or passed on to the node that leased the item). */
function routed(m: Completion, routes: ClusterRoutes, call: grpc.ServerDuplexStream<Completion, Acks>, local: () => Promise<void>): Promise<unknown> {
  const kind = m.orchestration ? "orchestration" : m.activity ? "activity" : m.entity ? "entity" : undefined;
  if (!kind) return local();
  const method = backendDefinition[UNARY[kind]];
  const key = routeKeyOf(method.path.split("/")[1], UNARY[kind])?.(m[kind]);
  // The stream's call stands in for the unary one: its metadata (hub, token) and deadline.
  return key ? routes.serve(method, withRequest(call, m[kind]), key, local) : local();
}

/** The completion's commit, as its unary RPC makes it; a message with none set is refused. */
async function apply(m: Completion, hub: Hub): Promise<void> {
  if (m.orchestration) return COMPLETE.orchestration(m.orchestration, hub);
  if (m.activity) return COMPLETE.activity(m.activity, hub);
  if (m.entity) return COMPLETE.entity(m.entity, hub);
  throw invalid("a WorkItemCompletion must carry an orchestration, activity or entity completion");
}
