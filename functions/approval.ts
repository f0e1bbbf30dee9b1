// Human interaction: wait for an "Approval" event, raced against a timer. Raise the event through the
// sendEventPostUri of the check-status response, with a JSON body: {"approved": true, "approver": "ann"}.
// Input (optional): { "request": "text", "timeoutSeconds": 3600 }.
import * as df from "durable-functions";
import { OrchestrationContext } from "durable-functions";

interface ApprovalInput {
  request?: string;
  timeoutSeconds?: number;
}

interface Decision {
  approved?: boolean;
  approver?: string;
}

df.app.activity("ProcessApproval", {
  handler: (d: { request: string; approved: boolean; approver?: string }) => ({
    status: d.approved ? "Approved" : "Rejected", request: d.request, approver: d.approver ?? null,
  }),
});

df.app.activity("Escalate", {
  handler: (d: { request: string; timeoutSeconds: number }) => ({
    status: "Escalated", request: d.request, reason: `No decision within ${d.timeoutSeconds} s`,
  }),
});

df.app.orchestration("ApprovalWorkflow", function* (context: OrchestrationContext) {
  const input = (context.df.getInput() ?? {}) as ApprovalInput;
  const request = input.request ?? "expense report";
  const timeoutSeconds = input.timeoutSeconds ?? 3600;
  context.df.setCustomStatus({ stage: "WaitingForApproval", request });

  const deadline = new Date(context.df.currentUtcDateTime.getTime() + timeoutSeconds * 1000);
  const timeout = context.df.createTimer(deadline);
  const approval = context.df.waitForExternalEvent("Approval");
  const winner = yield context.df.Task.any([approval, timeout]);

  if (winner === approval) {
    timeout.cancel();
    const decision = approval.result as Decision | boolean | null;
    const approved = typeof decision === "boolean" ? decision : !!decision?.approved;
    const approver = typeof decision === "object" && decision ? decision.approver : undefined;
    context.df.setCustomStatus({ stage: approved ? "Approved" : "Rejected", request });
    return yield context.df.callActivity("ProcessApproval", { request, approved, approver });
  }
  context.df.setCustomStatus({ stage: "TimedOut", request });
  return yield context.df.callActivity("Escalate", { request, timeoutSeconds });
});
