// The URLs of the Durable HTTP management API, in the shapes the Durable extension gives them: the
// durableClient input binding's data (which durable-functions' DurableClient reads) and the
// check-status payload that start and restart answer with; and the origin all of them, and the
// request URL HTTP functions see, are built on (publicOrigin).
import { isLoopbackHost } from "../provider/connection-string";

export const WEBHOOK_PATH = "/runtime/webhooks/durabletask";
/** Where the durable client's rpcBaseUrl points (the extension's local RPC endpoint; here the same server). */
export const RPC_PATH = "/durabletask";
/** The instance id placeholder in managementUrls; DurableClient replaces it with the real id. */
export const INSTANCE_ID_PLACEHOLDER = "INSTANCEID";

export interface HubRef {
  hubName: string;
  connectionName: string;
}

export interface ManagementUrls {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  rewindPostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
}

export interface DurableClientBindingData {
  taskHubName: string;
  connectionName: string;
  creationUrls: { createNewInstancePostUri: string; createAndWaitOnNewInstancePostUri: string };
  managementUrls: ManagementUrls;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  /** durable-functions 4 (gRPC channel) only. */
  httpBaseUrl?: string;
  maxGrpcMessageSizeInBytes?: number;
}

/** The loopback gRPC channel durable-functions 4's client calls instead of the HTTP API. */
export interface GrpcChannelRef {
  url: string;
  maxMessageBytes: number;
}

function suffix(hub: HubRef): string {
  return `taskHub=${encodeURIComponent(hub.hubName)}&connection=${encodeURIComponent(hub.connectionName)}`;
}

/** The management URLs of one instance (or of the placeholder), under `origin` (e.g. http://localhost:7071). */
export function managementUrls(origin: string, hub: HubRef, instanceId: string, encodeId = true): ManagementUrls {
  const q = suffix(hub);
  const instance = `${origin}${WEBHOOK_PATH}/instances/${encodeId ? encodeURIComponent(instanceId) : instanceId}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${instance}?${q}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
    rewindPostUri: `${instance}/rewind?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${instance}?${q}`,
    restartPostUri: `${instance}/restart?${q}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
    resumePostUri: `${instance}/resume?reason={text}&${q}`,
  };
}

/**
 * The durableClient input binding's data. DurableClient sends every call to `rpcBaseUrl` when it is
 * present, and builds check-status responses from `managementUrls` (origin swapped for the request's).
 */
export function durableClientBindingData(origin: string, rpcOrigin: string, hub: HubRef, grpcChannel?: GrpcChannelRef): DurableClientBindingData {
  const q = suffix(hub);
  const create = `${origin}${WEBHOOK_PATH}/orchestrators/{functionName}[/{instanceId}]`;
  const data: DurableClientBindingData = {
    taskHubName: hub.hubName,
    connectionName: hub.connectionName,
    creationUrls: {
      createNewInstancePostUri: `${create}?${q}`,
      createAndWaitOnNewInstancePostUri: `${create}?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${q}`,
    },
    managementUrls: managementUrls(origin, hub, INSTANCE_ID_PLACEHOLDER, false),
    baseUrl: `${origin}${WEBHOOK_PATH}`,
    // Locally there is no system key (the Functions host would put code=<key> here).
    requiredQueryStringParameters: "",
    rpcBaseUrl: `${rpcOrigin}${RPC_PATH}/`,
  };
  if (grpcChannel) {
    // durable-functions 4 takes only host:port from rpcBaseUrl and speaks plaintext gRPC to it.
    data.rpcBaseUrl = grpcChannel.url;
    data.httpBaseUrl = data.baseUrl;
    data.maxGrpcMessageSizeInBytes = grpcChannel.maxMessageBytes;
  }
  return data;
}

interface Authority {
  hostname: string;
  port: number;
}

/** host[:port] as in a Host header, or undefined when it is anything else (a path, user info...). */
function parseAuthority(text: string | undefined, defaultPort: number): Authority | undefined {
  const t = text?.trim();
  if (!t) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${t}`);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.pathname !== "/" || url.search || url.hash) return undefined;
  const explicit = /:(\d+)$/.exec(t); // URL drops an explicit :80
  return { hostname: url.hostname, port: explicit ? Number(explicit[1]) : defaultPort };
}

/**
 * The origin of every URL this host builds (check-status links, the request URL HTTP functions see),
 * for a request to the server listening on `port`. The request's Host header is used only when it
 * names this server: a loopback name or the configured public host (WEBSITE_HOSTNAME, `host[:port]`),
 * with the server's port; otherwise the configured host, else localhost. X-Forwarded-Host/-Proto are
 * never read: any client can send them, and the links would then point at a host of its choosing.
 */
export function publicOrigin(hostHeader: string | undefined, port: number, configuredHost?: string): string {
  // A loopback configured value adds nothing (loopback is always accepted), and may be stale: the
  // host fills in WEBSITE_HOSTNAME=localhost:<port> for durable-functions when it is not set.
  const parsed = parseAuthority(configuredHost, port);
  const configured = parsed && !isLoopbackHost(parsed.hostname) ? parsed : undefined;
  const asked = parseAuthority(hostHeader, 80);
  const namesThisServer = (a: Authority) =>
    (isLoopbackHost(a.hostname) && a.port === port) || (configured !== undefined && a.hostname === configured.hostname && a.port === configured.port);
  const chosen = asked && namesThisServer(asked) ? asked : configured ?? { hostname: "localhost", port };
  return `http://${chosen.hostname}:${chosen.port}`;
}
