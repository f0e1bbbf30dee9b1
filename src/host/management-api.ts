// The Durable Functions HTTP management API, served under /runtime/webhooks/durabletask/ (for users:
// the check-status URLs) and under /durabletask/ (the durable client's rpcBaseUrl), answered with the
// status codes and bodies durable-functions' DurableClient accepts. Each request becomes calls to the
// scheduler's TaskHubSidecarService for the app's task hub (or the one named by ?taskHub=).
import * as grpc from "@grpc/grpc-js";
import { randomUUID } from "crypto";
import { str, toTimestamp } from "../core/events";
import { pb } from "../proto";
import { InstanceOperation, isFinished, refusal } from "./instance-rules";
import { ApiRequest, ApiResponse, bool, entityId, error, grpcToHttp, header, HttpError, jsonBody, nonJsonRefusal, pageSize, seconds, statuses, time } from "./management-request";
import { errorText, HostLog } from "./log";
import { isGrpcError, SidecarClient } from "./sidecar-client";
import { entityPayload, historyPayload, isRunningStatus, parseJson, statusPayload } from "./status-payload";
import { HubRef, managementUrls, RPC_PATH, WEBHOOK_PATH } from "./webhook-urls";

const S = pb.OrchestrationStatus;
const TERMINAL = [S.ORCHESTRATION_STATUS_COMPLETED, S.ORCHESTRATION_STATUS_FAILED, S.ORCHESTRATION_STATUS_TERMINATED, S.ORCHESTRATION_STATUS_CANCELED];

export type { ApiRequest, ApiResponse };

export interface ManagementApiOptions {
  client: SidecarClient;
  /** The app's task hub and connection setting name (the defaults of every request). */
  hub: HubRef;
  /** When given, starting an orchestration the app does not have answers 400 (as the extension does). */
  isOrchestrator?: (name: string) => boolean;
  log?: HostLog;
}

/** The part of the path after /runtime/webhooks/durabletask or /durabletask, or undefined if neither. */
export function managementPath(pathname: string): string | undefined {
  for (const base of [WEBHOOK_PATH, RPC_PATH]) {
    if (pathname.toLowerCase() === base) return "";
    if (pathname.toLowerCase().startsWith(base + "/")) return pathname.slice(base.length + 1);
  }
  return undefined;
}

/** Methods that only read; every other one may change state. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export class ManagementApi {
  constructor(private readonly options: ManagementApiOptions) {}

  /** Answers one request whose path is under one of the two bases (see managementPath). */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    const rel = managementPath(req.url.pathname) ?? "";
    let segments: string[];
    try {
      segments = rel.split("/").map(decodeURIComponent);
    } catch {
      return error(400, "The request path is not valid percent-encoding");
    }
    // "instances/" and "instances" are the same collection; a trailing empty segment means nothing.
    if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
    const hub = this.hubOf(req.url);
    const method = req.method.toUpperCase();
    if (!SAFE_METHODS.has(method)) {
      const refusal = nonJsonRefusal(req);
      if (refusal) return refusal;
    }
    try {
      const [collection, a, b, c, ...extra] = segments;
      switch (collection?.toLowerCase()) {
        case "orchestrators":
          if (method === "POST" && a && b !== "" && c === undefined) return await this.start(req, hub, a, b);
          break;
        case "instances":
          if (a === undefined || a === "") {
            if (method === "GET") return await this.query(req, hub);
            if (method === "DELETE") return await this.purgeMany(req, hub);
          } else if (b === undefined) {
            if (method === "GET") return await this.status(req, hub, a);
            if (method === "DELETE") return await this.purgeOne(hub, a);
          } else if (method === "POST" && b.toLowerCase() === "raiseevent" && c && extra.length === 0) {
            return await this.raiseEvent(req, hub, a, c);
          } else if (method === "POST" && c === undefined) {
            return await this.operation(req, hub, a, b.toLowerCase());
          }
          break;
        case "entities":
          if (method === "GET" && (b === undefined || b === "")) return await this.listEntities(req, hub, a || undefined);
          if (a && b !== undefined && c === undefined) {
            const key = b === "$" ? "" : b; // the extension's symbol for an empty key
            if (method === "GET") return await this.readEntity(hub, a, key);
            if (method === "POST" || method === "DELETE") return await this.signalEntity(req, hub, a, key);
          }
          break;
      }
      return { status: 404 };
    } catch (err) {
      if (err instanceof HttpError) return error(err.status, err.message);
      if (isGrpcError(err)) return error(grpcToHttp(err.code), err.details || err.message);
      this.options.log?.("error", `Durable management API: ${method} ${req.url.pathname} failed: ${errorText(err)}`);
      return error(500, "Something went wrong while processing your request");
    }
  }

  private hubOf(url: URL): HubRef {
    const taskHub = url.searchParams.get("taskHub") || url.searchParams.get("taskhub");
    const connection = url.searchParams.get("connection");
    return { hubName: taskHub || this.options.hub.hubName, connectionName: connection || this.options.hub.connectionName };
  }

  private call<T>(method: string, request: object, hub: HubRef, timeoutMs?: number): Promise<T> {
    return this.options.client.call<T>(method, request, hub.hubName, timeoutMs);
  }

  private checkStatus(req: ApiRequest, hub: HubRef, instanceId: string): ApiResponse {
    // req.url's origin is this server's own (http-server builds it with publicOrigin), never a client's X-Forwarded-Host.
    const urls = managementUrls(req.url.origin, hub, instanceId);
    return { status: 202, headers: { Location: urls.statusQueryGetUri, "Retry-After": "10" }, body: urls };
  }

  // POST orchestrators/{name}[/{instanceId}][?version=&timeout=&pollingInterval=]
  private async start(req: ApiRequest, hub: HubRef, name: string, instanceId: string | undefined): Promise<ApiResponse> {
    if (this.options.isOrchestrator && !this.options.isOrchestrator(name)) {
      throw new HttpError(400, `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`);
    }
    const input = jsonBody(req.body);
    const id = instanceId || randomUUID().replace(/-/g, "");
    const version = req.url.searchParams.get("version") ?? undefined;
    try {
      await this.call("StartInstance", { instanceId: id, name, input: str(input), version: str(version), requestTime: toTimestamp(Date.now()) }, hub);
    } catch (err) {
      if (isGrpcError(err) && err.code === grpc.status.ALREADY_EXISTS) throw new HttpError(409, err.details);
      throw err;
    }
    const timeout = seconds(req.url.searchParams.get("timeout"));
    if (timeout !== undefined) return this.waitOrCheckStatus(req, hub, id, timeout);
    return this.checkStatus(req, hub, id);
  }

  /** The extension's "create and wait": the output if it finishes within the timeout, else check-status. */
  private async waitOrCheckStatus(req: ApiRequest, hub: HubRef, id: string, timeoutSeconds: number): Promise<ApiResponse> {
    let state: pb.IOrchestrationState | undefined;
    try {
      const res = await this.call<pb.GetInstanceResponse>("WaitForInstanceCompletion", { instanceId: id, getInputsAndOutputs: true }, hub, timeoutSeconds * 1000);
      state = res.exists ? res.orchestrationState ?? undefined : undefined;
    } catch (err) {
      if (!isGrpcError(err) || err.code !== grpc.status.DEADLINE_EXCEEDED) throw err;
    }
    if (!state || isRunningStatus(state.orchestrationStatus)) return this.checkStatus(req, hub, id);
    if (state.orchestrationStatus === S.ORCHESTRATION_STATUS_COMPLETED) return { status: 200, body: statusPayload(state, true).output };
    return this.statusResponse(req, state, true, undefined);
  }

  // GET instances/{id}?showHistory&showHistoryOutput&showInput&returnInternalServerErrorOnFailure
  private async status(req: ApiRequest, hub: HubRef, instanceId: string): Promise<ApiResponse> {
    const q = req.url.searchParams;
    const res = await this.call<pb.GetInstanceResponse>("GetInstance", { instanceId, getInputsAndOutputs: true }, hub);
    if (!res.exists || !res.orchestrationState) return error(404, `No instance with ID '${instanceId}' found.`);
    let history: unknown[] | undefined;
    if (bool(q.get("showHistory"), false)) history = historyPayload(await this.options.client.history(instanceId, hub.hubName), bool(q.get("showHistoryOutput"), false));
    return this.statusResponse(req, res.orchestrationState, bool(q.get("showInput"), true), history);
  }

  private statusResponse(req: ApiRequest, state: pb.IOrchestrationState, showInput: boolean, history: unknown[] | undefined): ApiResponse {
    const body = statusPayload(state, showInput, history);
    if (isRunningStatus(state.orchestrationStatus)) {
      return { status: 202, headers: { Location: req.url.href, "Retry-After": "5" }, body };
    }
    const failed = state.orchestrationStatus === S.ORCHESTRATION_STATUS_FAILED;
    return { status: failed && bool(req.url.searchParams.get("returnInternalServerErrorOnFailure"), false) ? 500 : 200, body };
  }

  // GET instances?createdTimeFrom&createdTimeTo&runtimeStatus&instanceIdPrefix&top&showInput (+ x-ms-continuation-token)
  private async query(req: ApiRequest, hub: HubRef): Promise<ApiResponse> {
    const q = req.url.searchParams;
    const top = pageSize(q);
    const showInput = bool(q.get("showInput"), true);
    const res = await this.call<pb.QueryInstancesResponse>("QueryInstances", {
      query: {
        runtimeStatus: statuses(q.get("runtimeStatus")),
        createdTimeFrom: time(q.get("createdTimeFrom"), "createdTimeFrom"),
        createdTimeTo: time(q.get("createdTimeTo"), "createdTimeTo"),
        instanceIdPrefix: str(q.get("instanceIdPrefix") || undefined),
        maxInstanceCount: top,
        continuationToken: str(header(req, "x-ms-continuation-token")),
        fetchInputsAndOutputs: true,
      },
    }, hub);
    // Entities share the instance table in the scheduler; the orchestration list leaves them out.
    const body = (res.orchestrationState ?? []).filter((s) => !(s.instanceId ?? "").startsWith("@")).map((s) => statusPayload(s, showInput));
    const token = res.continuationToken?.value;
    return { status: 200, headers: token ? { "x-ms-continuation-token": token } : {}, body };
  }

  // DELETE instances/{id}: an orchestration must have finished; an entity (@name@key) is purged as it is,
  // answering 200 even when there was none (as the extension, which checks only orchestrations).
  private async purgeOne(hub: HubRef, instanceId: string): Promise<ApiResponse> {
    const entity = instanceId.startsWith("@");
    if (!entity) this.refuse("purge", instanceId, await this.statusOf(hub, instanceId));
    let deleted: number;
    try {
      deleted = (await this.call<pb.PurgeInstancesResponse>("PurgeInstances", { instanceId }, hub)).deletedInstanceCount ?? 0;
    } catch (err) {
      if (isGrpcError(err) && err.code === grpc.status.FAILED_PRECONDITION) throw new HttpError(412, err.details);
      throw err;
    }
    if (deleted === 0 && !entity) return error(404, `No instance with ID '${instanceId}' found.`);
    return { status: 200, body: { instancesDeleted: deleted } };
  }

  // DELETE instances?createdTimeFrom&createdTimeTo&runtimeStatus
  private async purgeMany(req: ApiRequest, hub: HubRef): Promise<ApiResponse> {
    const q = req.url.searchParams;
    const res = await this.call<pb.PurgeInstancesResponse>("PurgeInstances", {
      purgeInstanceFilter: {
        createdTimeFrom: time(q.get("createdTimeFrom"), "createdTimeFrom"),
        createdTimeTo: time(q.get("createdTimeTo"), "createdTimeTo"),
        runtimeStatus: (statuses(q.get("runtimeStatus")) ?? TERMINAL).filter((s) => TERMINAL.includes(s)),
      },
    }, hub, 5 * 60_000);
    const deleted = res.deletedInstanceCount ?? 0;
    if (deleted === 0) return error(404, "No instances matched the filter.");
    return { status: 200, body: { instancesDeleted: deleted } };
  }

  // POST instances/{id}/raiseEvent/{eventName}, JSON body
  private async raiseEvent(req: ApiRequest, hub: HubRef, instanceId: string, name: string): Promise<ApiResponse> {
    const input = jsonBody(req.body);
    this.refuse("raiseEvent", instanceId, await this.statusOf(hub, instanceId));
    await this.live(() => this.call("RaiseEvent", { instanceId, name, input: str(input ?? "null") }, hub));
    return { status: 202 };
  }

  // POST instances/{id}/{terminate|suspend|resume|rewind|restart}?reason=
  private async operation(req: ApiRequest, hub: HubRef, instanceId: string, op: string): Promise<ApiResponse> {
    const reason = req.url.searchParams.get("reason") ?? undefined;
    switch (op) {
      case "terminate":
        this.refuse(op, instanceId, await this.statusOf(hub, instanceId));
        await this.live(() => this.call("TerminateInstance", { instanceId, output: str(reason === undefined ? undefined : JSON.stringify(reason)), recursive: true }, hub));
        return { status: 202 };
      case "suspend":
        this.refuse(op, instanceId, await this.statusOf(hub, instanceId));
        await this.live(() => this.call("SuspendInstance", { instanceId, reason: str(reason) }, hub));
        return { status: 202 };
      case "resume":
        this.refuse(op, instanceId, await this.statusOf(hub, instanceId));
        await this.live(() => this.call("ResumeInstance", { instanceId, reason: str(reason) }, hub));
        return { status: 202 };
      case "rewind":
        this.refuse(op, instanceId, await this.statusOf(hub, instanceId));
        try {
          await this.call("RewindInstance", { instanceId, reason: str(reason) }, hub);
        } catch (err) {
          if (isGrpcError(err) && err.code === grpc.status.FAILED_PRECONDITION) throw new HttpError(412, err.details);
          throw err;
        }
        return { status: 202 };
      case "restart": {
        const newId = await this.restart(hub, instanceId, bool(req.url.searchParams.get("restartWithNewInstanceId"), true));
        const timeout = seconds(req.url.searchParams.get("timeout"));
        if (timeout !== undefined) return this.waitOrCheckStatus(req, hub, newId, timeout);
        return this.checkStatus(req, hub, newId);
      }
      default:
        return { status: 404 };
    }
  }

  /**
   * Restart as the extension does it: a new start of the instance's orchestration with its input,
   * under a new id (any existing instance) or its own id (a finished one; a live one answers 409).
   * A finished instance goes through the scheduler's RestartInstance, which keeps its tags and trace.
   */
  private async restart(hub: HubRef, instanceId: string, withNewId: boolean): Promise<string> {
    const state = await this.stateOf(hub, instanceId, true);
    this.refuse("restart", instanceId, state?.orchestrationStatus, !withNewId);
    try {
      if (isFinished(state!.orchestrationStatus)) {
        const restarted = await this.call<pb.RestartInstanceResponse>("RestartInstance", { instanceId, restartWithNewInstanceId: withNewId }, hub);
        return restarted.instanceId || instanceId;
      }
      const id = randomUUID().replace(/-/g, "");
      await this.call("StartInstance", { instanceId: id, name: state!.name, input: state!.input, version: state!.version, tags: state!.tags, requestTime: toTimestamp(Date.now()) }, hub);
      return id;
    } catch (err) {
      if (isGrpcError(err) && (err.code === grpc.status.FAILED_PRECONDITION || err.code === grpc.status.ALREADY_EXISTS)) throw new HttpError(409, err.details);
      throw err;
    }
  }

  /** The orchestration's state, or undefined when there is no such orchestration. */
  private async stateOf(hub: HubRef, instanceId: string, withPayloads: boolean): Promise<pb.IOrchestrationState | undefined> {
    if (instanceId.startsWith("@")) return undefined; // entity ids name no orchestration
    const res = await this.call<pb.GetInstanceResponse>("GetInstance", { instanceId, getInputsAndOutputs: withPayloads }, hub);
    return res.exists ? res.orchestrationState ?? undefined : undefined;
  }

  private async statusOf(hub: HubRef, instanceId: string): Promise<pb.OrchestrationStatus | undefined> {
    return (await this.stateOf(hub, instanceId, false))?.orchestrationStatus ?? undefined;
  }

  /** Throws the extension's answer when the instance's state does not allow `op`. */
  private refuse(op: InstanceOperation, instanceId: string, status: pb.OrchestrationStatus | null | undefined, sameId = false): void {
    const r = refusal(op, instanceId, status, sameId);
    if (r) throw new HttpError(r.status, r.message);
  }

  /** For operations on a live instance that finished in the meantime: 410 Gone (the client treats it as done). */
  private async live(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (isGrpcError(err) && err.code === grpc.status.FAILED_PRECONDITION) throw new HttpError(410, err.details);
      throw err;
    }
  }

  // POST|DELETE entities/{name}/{key}?op=, body = operation input
  private async signalEntity(req: ApiRequest, hub: HubRef, name: string, key: string): Promise<ApiResponse> {
    const op = req.method.toUpperCase() === "DELETE" ? "delete" : req.url.searchParams.get("op") ?? "";
    const input = jsonBody(req.body); // JSON only: handle() refused other content types
    await this.call("SignalEntity", { instanceId: entityId(name, key), name: op, input: str(input), requestId: randomUUID(), requestTime: toTimestamp(Date.now()) }, hub);
    return { status: 202 };
  }

  // GET entities/{name}/{key}: the state itself
  private async readEntity(hub: HubRef, name: string, key: string): Promise<ApiResponse> {
    const res = await this.call<pb.GetEntityResponse>("GetEntity", { instanceId: entityId(name, key), includeState: true }, hub);
    if (!res.exists || !res.entity) return error(404, `Entity '@${name}@${key}' not found.`);
    return { status: 200, body: parseJson(res.entity.serializedState?.value) };
  }

  // GET entities[/{name}]?fetchState&top&lastOperationTimeFrom&lastOperationTimeTo (+ x-ms-continuation-token)
  private async listEntities(req: ApiRequest, hub: HubRef, name: string | undefined): Promise<ApiResponse> {
    const q = req.url.searchParams;
    const fetchState = bool(q.get("fetchState"), false);
    const res = await this.call<pb.QueryEntitiesResponse>("QueryEntities", {
      query: {
        instanceIdStartsWith: str(name ? `@${name.toLowerCase()}@` : "@"),
        lastModifiedFrom: time(q.get("lastOperationTimeFrom"), "lastOperationTimeFrom"),
        lastModifiedTo: time(q.get("lastOperationTimeTo"), "lastOperationTimeTo"),
        includeState: fetchState,
        pageSize: { value: pageSize(q) },
        continuationToken: str(header(req, "x-ms-continuation-token")),
      },
    }, hub);
    const token = res.continuationToken?.value;
    return { status: 200, headers: token ? { "x-ms-continuation-token": token } : {}, body: (res.entities ?? []).map((e) => entityPayload(e, fetchState)) };
  }
}
