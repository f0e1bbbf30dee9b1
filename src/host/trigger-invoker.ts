// Runs functions whose trigger is not HTTP (timers, and any function run by hand through the admin
// API) through the same loader invoke path as HTTP triggers: the trigger's data, the durableClient
// input binding's data for those that ask for it, and one "Executing"/"Executed" pair of log lines
// as the Functions host writes them.
import { randomUUID } from "crypto";
import { FunctionApp, TypedData } from "../provider/function-app";
import { errorText, HostLog } from "./log";
import { durableClientBindingData, GrpcChannelRef, HubRef } from "./webhook-urls";

const isDurableClient = (type: string) => /^(durableClient|orchestrationClient)$/i.test(type);

export interface TriggerInvokerOptions {
  app: FunctionApp;
  /** The HTTP server's public origin (for the URLs clients hand out) and the loopback one durable clients call; known once it listens. */
  origins: () => { public: string; rpc: string; grpc?: GrpcChannelRef };
  /** The app's task hub, when it uses Durable Functions. */
  hub?: HubRef;
  log: HostLog;
}

export type InvokeOutcome = { ok: true } | { ok: false; error: unknown };

export class TriggerInvoker {
  private readonly warned = new Set<string>();

  constructor(private readonly options: TriggerInvokerOptions) {}

  /** Invokes `name` with `triggerData`; never rejects (the outcome says how it went, and is logged). */
  async invoke(name: string, triggerData: TypedData, reason: string): Promise<InvokeOutcome> {
    const { app, log } = this.options;
    const fn = app.functions.get(name);
    if (!fn) return { ok: false, error: new Error(`Function '${name}' is not registered by the app`) };
    const id = randomUUID();
    const started = Date.now();
    log("information", `Executing '${fn.name}' (Reason='${reason}', Id=${id})`);
    try {
      const inputData = { [fn.triggerBindingName]: triggerData, ...this.extraInputs(fn.name) };
      await app.invoke(fn.name, { inputData });
      log("information", `Executed '${fn.name}' (Succeeded, Id=${id}, Duration=${Date.now() - started}ms)`);
      return { ok: true };
    } catch (err) {
      log("error", `Executed '${fn.name}' (Failed, Id=${id}, Duration=${Date.now() - started}ms): ${errorText(err)}`);
      return { ok: false, error: err };
    }
  }

  /** Durable client inputs get the binding data; other inputs are not supported here (said once). */
  private extraInputs(name: string): Record<string, TypedData> {
    const fn = this.options.app.functions.get(name)!;
    const inputs: Record<string, TypedData> = {};
    for (const b of Object.values(fn.bindings)) {
      if (b.direction !== "in" || b.name === fn.triggerBindingName) continue;
      if (isDurableClient(b.type)) {
        if (!this.options.hub) throw new Error(`Function '${fn.name}' has a durableClient input, but host.json has no durableTask configuration`);
        const hub: HubRef = {
          hubName: typeof b.taskHub === "string" && b.taskHub ? b.taskHub : this.options.hub.hubName,
          connectionName: typeof b.connectionName === "string" && b.connectionName ? b.connectionName : this.options.hub.connectionName,
        };
        const origins = this.options.origins();
        inputs[b.name] = { string: JSON.stringify(durableClientBindingData(origins.public, origins.rpc, hub, origins.grpc)) };
      } else if (!this.warned.has(`${fn.name}/${b.name}`)) {
        this.warned.add(`${fn.name}/${b.name}`);
        this.options.log("warning", `Function '${fn.name}': input binding '${b.name}' of type '${b.type}' is not supported by this host; it will be undefined`);
      }
    }
    return inputs;
  }
}
