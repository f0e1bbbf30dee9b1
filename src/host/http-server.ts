// The host's HTTP endpoint: the app's HTTP triggers under /<routePrefix>/<route> (route parameters,
// methods; authLevel is ignored locally, as `func start` does), the durableClient input binding's
// data for those that ask for it, and the Durable HTTP management API under
// /runtime/webhooks/durabletask/ and /durabletask/ (the client's rpcBaseUrl), all on one port.
import { randomUUID } from "crypto";
import * as http from "http";
import type { AdminApi } from "./admin-api";
import { TypedData } from "../provider/function-app";
import { LoadedFunctionApp } from "./loader";
import { errorText, HostLog } from "./log";
import { ApiRequest, ApiResponse, ManagementApi, managementPath } from "./management-api";
import { byPrecedence, compileRoute, RouteTemplate } from "./routes";
import { HOST_STATUS_PATH, HostStatus } from "./host-status";
import type { ScaleEndpoint } from "./scale-endpoint";
import { durableClientBindingData, GrpcChannelRef, HubRef, publicOrigin, RPC_PATH } from "./webhook-urls";

const MAX_BODY_BYTES = 100 * 1024 * 1024; // the Functions host's default request size limit

export interface HttpHostOptions {
  app: LoadedFunctionApp;
  port: number;
  /** Listen address; all interfaces by default. */
  hostname?: string;
  /** The public `host[:port]` (app setting WEBSITE_HOSTNAME) for the URLs the host builds; see publicOrigin. */
  publicHost?: string;
  /** host.json extensions.http.routePrefix ("api"). */
  routePrefix: string;
  /** The Durable parts, when the app uses Durable Functions. */
  /** grpcChannel: set for apps on durable-functions 4, whose clients call it instead of the HTTP API. */
  durable?: { management: ManagementApi; hub: HubRef; grpcChannel?: GrpcChannelRef };
  /** The scale monitor's endpoint (scale-endpoint.ts), when the app uses Durable Functions. */
  scale?: ScaleEndpoint;
  /** POST /admin/functions/{name} (admin-api.ts). */
  admin?: AdminApi;
  /** Answers GET /admin/host/status. */
  status: HostStatus;
  log: HostLog;
}

export interface HttpFunctionRoute {
  functionName: string;
  /** Upper-case methods; undefined means any. */
  methods?: string[];
  route: RouteTemplate;
  triggerBindingName: string;
  /** Extra input bindings that are durable clients (get the binding data), by name, with the hub they name. */
  durableClients: { name: string; taskHub?: string; connectionName?: string }[];
}

export interface HttpHost {
  port: number;
  /** http://localhost:<port> */
  origin: string;
  routes: HttpFunctionRoute[];
  /** The printable URL of a route, e.g. http://localhost:7071/api/orchestrators/{orchestratorName} */
  urlOf(route: HttpFunctionRoute): string;
  close(): Promise<void>;
}

const isDurableClient = (type: string) => /^(durableClient|orchestrationClient)$/i.test(type);

/** The app's HTTP-triggered functions as routes, most specific first. */
export function httpRoutes(app: LoadedFunctionApp): HttpFunctionRoute[] {
  const routes: HttpFunctionRoute[] = [];
  for (const fn of app.functions.values()) {
    if (fn.triggerType.toLowerCase() !== "httptrigger") continue;
    const trigger = fn.bindings[fn.triggerBindingName];
    const methods = Array.isArray(trigger.methods) && trigger.methods.length > 0 ? trigger.methods.map((m) => String(m).toUpperCase()) : undefined;
    const template = typeof trigger.route === "string" && trigger.route !== "" ? trigger.route : fn.name;
    const durableClients = Object.values(fn.bindings)
      .filter((b) => b.direction === "in" && isDurableClient(b.type))
      .map((b) => ({ name: b.name, taskHub: typeof b.taskHub === "string" ? b.taskHub : undefined, connectionName: typeof b.connectionName === "string" ? b.connectionName : undefined }));
    routes.push({ functionName: fn.name, methods, route: compileRoute(template), triggerBindingName: fn.triggerBindingName, durableClients });
  }
  return routes.sort(byPrecedence);
}

export async function startHttpHost(options: HttpHostOptions): Promise<HttpHost> {
  const { app, log } = options;
  const prefix = options.routePrefix ? `/${options.routePrefix}` : "";
  const routes = httpRoutes(app);
  let port = options.port;
  const unsupported = new Set<string>();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      log("error", `HTTP ${req.method} ${req.url} failed: ${errorText(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const url = requestUrl(req.url ?? "/", publicOrigin(req.headers.host, port, options.publicHost));
    const method = (req.method ?? "GET").toUpperCase();

    if (options.scale?.matches(url.pathname)) {
      const apiRes = await options.scale.handle({ method, url, headers: req.headers, body: Buffer.alloc(0) });
      writeApiResponse(res, apiRes);
      log("debug", `${method} ${url.pathname}${url.search} -> ${apiRes.status} (${Date.now() - started} ms)`);
      return;
    }

    if (options.admin?.matches(url.pathname)) {
      const apiRes = await options.admin.handle({ method, url, headers: req.headers, body: await readBody(req) });
      writeApiResponse(res, apiRes);
      log("information", `${method} ${url.pathname} -> ${apiRes.status} (${Date.now() - started} ms)`);
      return;
    }

    if (url.pathname.toLowerCase() === HOST_STATUS_PATH) {
      writeApiResponse(res, method === "GET" || method === "HEAD" ? { status: 200, body: options.status.payload() } : { status: 405, headers: { Allow: "GET, HEAD" } });
      return;
    }

    const mgmt = managementPath(url.pathname);
    if (mgmt !== undefined) {
      const body = await readBody(req);
      const apiReq: ApiRequest = { method, url, headers: req.headers, body };
      const apiRes: ApiResponse = options.durable
        ? await options.durable.management.handle(apiReq)
        : { status: 404, body: "This app does not use Durable Functions (no durableTask configuration in host.json)" };
      writeApiResponse(res, apiRes);
      // The durable client's own calls (rpcBaseUrl) are internal; log only what users call.
      const internal = url.pathname.toLowerCase().startsWith(RPC_PATH + "/");
      log(internal ? "debug" : "information", `${method} ${url.pathname}${url.search} -> ${apiRes.status} (${Date.now() - started} ms)`);
      return;
    }

    const underPrefix = prefix === "" || url.pathname.toLowerCase() === prefix.toLowerCase() || url.pathname.toLowerCase().startsWith(prefix.toLowerCase() + "/");
    if (underPrefix) {
      const rel = url.pathname.slice(prefix.length);
      let matchedPath = false;
      for (const r of routes) {
        const params = r.route.match(rel);
        if (!params) continue;
        matchedPath = true;
        if (r.methods && !r.methods.includes(method)) continue;
        const status = await invokeHttp(r, params, req, res, url, method);
        log("information", `Executed '${r.functionName}': ${method} ${url.pathname} -> ${status} (${Date.now() - started} ms)`);
        return;
      }
      if (matchedPath) {
        res.writeHead(405, { Allow: routes.filter((r) => r.route.match(rel)).flatMap((r) => r.methods ?? []).join(", ") });
        res.end();
        return;
      }
    }
    if (url.pathname === "/" && method === "GET") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(`Your Functions host is running. HTTP functions:\n${routes.map((r) => `  ${r.functionName}: ${urlOf(r)}`).join("\n")}\n`);
      return;
    }
    res.writeHead(404);
    res.end();
  }

  function durableInputs(r: HttpFunctionRoute, url: URL): Record<string, TypedData> {
    const inputs: Record<string, TypedData> = {};
    if (r.durableClients.length === 0) return inputs;
    if (!options.durable) throw new Error(`Function '${r.functionName}' has a durableClient input, but host.json has no durableTask configuration`);
    for (const c of r.durableClients) {
      const hub: HubRef = { hubName: c.taskHub || options.durable.hub.hubName, connectionName: c.connectionName || options.durable.hub.connectionName };
      inputs[c.name] = { string: JSON.stringify(durableClientBindingData(url.origin, `http://127.0.0.1:${port}`, hub, options.durable.grpcChannel)) };
    }
    return inputs;
  }

  /** Runs one HTTP-triggered function; resolves with the status code sent. */
  async function invokeHttp(r: HttpFunctionRoute, routeParams: Record<string, string>, req: http.IncomingMessage, res: http.ServerResponse, url: URL, method: string): Promise<number> {
    const fn = app.functions.get(r.functionName)!;
    for (const b of Object.values(fn.bindings)) {
      if (b.direction === "in" && b.name !== r.triggerBindingName && !isDurableClient(b.type) && !unsupported.has(`${fn.name}/${b.name}`)) {
        unsupported.add(`${fn.name}/${b.name}`);
        log("warning", `Function '${fn.name}': input binding '${b.name}' of type '${b.type}' is not supported by this host; it will be undefined`);
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const query: Record<string, string> = {};
    for (const k of new Set(url.searchParams.keys())) query[k] = url.searchParams.getAll(k).join(",");
    // The Functions host gives the query-string values as params too, route values winning.
    const params = { ...query, ...routeParams };
    const triggerMetadata: Record<string, TypedData> = { Headers: { json: JSON.stringify(headers) }, Query: { json: JSON.stringify(query) } };
    for (const [k, v] of Object.entries(routeParams)) triggerMetadata[k] = { string: v };

    if (app.httpStreamUri) return invokeStreaming(r, headers, params, triggerMetadata, req, res, url, method);

    const body = await readBody(req);
    const rpcHttp = { method, url: url.href, headers, query, params, body: body.length > 0 ? { bytes: body } : undefined };
    let result;
    try {
      result = await app.invoke(r.functionName, { inputData: { [r.triggerBindingName]: { http: rpcHttp }, ...durableInputs(r, url) }, triggerMetadata });
    } catch (err) {
      log("error", `Function '${r.functionName}' failed: ${errorText(err)}`);
      res.writeHead(500);
      res.end();
      return 500;
    }
    const httpOut = httpResponseOf(fn.bindings, result.returnValue, result.outputs);
    return writeRpcHttp(res, httpOut);
  }

  /**
   * HTTP streaming (app.setup({ enableHttpStream: true })): @azure/functions reads the request from,
   * and writes the response to, its own proxy server; we forward the raw request there, tagged with
   * the invocation, and relay what comes back.
   */
  async function invokeStreaming(r: HttpFunctionRoute, headers: Record<string, string>, params: Record<string, string>, triggerMetadata: Record<string, TypedData>,
    req: http.IncomingMessage, res: http.ServerResponse, url: URL, method: string): Promise<number> {
    const invocationId = randomUUID();
    const target = new URL(url.pathname + url.search, app.httpStreamUri);
    const proxied = new Promise<number>((resolve, reject) => {
      const out = http.request(target, {
        method,
        // The library builds request.url from these; ours replace any the client sent (see publicOrigin).
        headers: { ...req.headers, "x-ms-invocation-id": invocationId, "x-forwarded-host": url.host, "x-forwarded-proto": url.protocol.slice(0, -1) },
      }, (pres) => {
        const { "x-ms-invocation-id": _id, ...headers } = pres.headers; // the library's pairing header stays internal
        res.writeHead(pres.statusCode ?? 500, headers);
        pres.pipe(res);
        pres.on("end", () => resolve(pres.statusCode ?? 500));
        pres.on("error", reject);
      });
      out.on("error", reject);
      req.pipe(out);
    });
    // The library pairs the proxied request with the invocation by this id.
    const invoked = app.invoke(r.functionName, {
      invocationId,
      inputData: { [r.triggerBindingName]: { http: { method, url: url.href, headers, params } }, ...durableInputs(r, url) },
      triggerMetadata,
    });
    try {
      await invoked;
    } catch (err) {
      log("error", `Function '${r.functionName}' failed: ${errorText(err)}`);
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
      return 500;
    }
    return proxied;
  }

  function urlOf(r: HttpFunctionRoute): string {
    return `http://localhost:${port}${prefix}${r.route.template ? "/" + r.route.template : ""}`;
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;

  return {
    port,
    origin: `http://localhost:${port}`,
    routes,
    urlOf,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * The request's URL under `origin`. The target is appended as text, so one like "//other.host/x"
 * stays a path; an absolute-form target (as sent to proxies) keeps only its path and query.
 */
function requestUrl(target: string, origin: string): URL {
  if (target.startsWith("/")) return new URL(origin + target);
  const u = new URL(target, origin);
  return new URL(origin + u.pathname + u.search);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function writeApiResponse(res: http.ServerResponse, r: ApiResponse): void {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let body: Buffer | undefined;
  if (Buffer.isBuffer(r.body)) body = r.body;
  else if (r.body !== undefined) {
    body = Buffer.from(JSON.stringify(r.body));
    headers["Content-Type"] = "application/json; charset=utf-8";
  }
  res.writeHead(r.status, headers);
  res.end(body);
}

interface RpcHttpResponse {
  statusCode?: string | number;
  headers?: Record<string, string>;
  cookies?: RpcCookie[];
  body?: TypedData & { int?: number; double?: number };
}

interface RpcCookie {
  name?: string;
  value?: string;
  domain?: { value?: string } | null;
  path?: { value?: string } | null;
  expires?: { value?: { seconds?: number | string; nanos?: number } } | null;
  secure?: { value?: boolean } | null;
  httpOnly?: { value?: boolean } | null;
  sameSite?: string;
  maxAge?: { value?: number } | null;
}

/** The function's HTTP response: the $return binding's value, or an http output binding's. */
function httpResponseOf(bindings: Record<string, { type: string; direction: string }>, returnValue: unknown, outputs: Record<string, unknown>): RpcHttpResponse | undefined {
  const pick = (v: unknown) => (v && typeof v === "object" && "http" in v ? ((v as { http: RpcHttpResponse }).http ?? undefined) : undefined);
  const ret = bindings.$return;
  if (ret && ret.type.toLowerCase() === "http") return pick(returnValue);
  for (const [name, b] of Object.entries(bindings)) if (b.direction === "out" && b.type.toLowerCase() === "http") return pick(outputs[name]);
  return undefined;
}

function writeRpcHttp(res: http.ServerResponse, r: RpcHttpResponse | undefined): number {
  if (!r) {
    // The function returned no response.
    res.writeHead(204);
    res.end();
    return 204;
  }
  const status = Number(r.statusCode ?? 200) || 200;
  const headers: Record<string, string | string[]> = { ...(r.headers ?? {}) };
  const cookies = (r.cookies ?? []).map(cookieHeader);
  if (cookies.length > 0) headers["Set-Cookie"] = cookies;
  let body: Buffer | undefined;
  const b = r.body;
  if (b?.bytes) body = Buffer.from(b.bytes);
  else if (typeof b?.string === "string") body = Buffer.from(b.string);
  else if (typeof b?.json === "string") body = Buffer.from(b.json);
  else if (b?.int !== undefined || b?.double !== undefined) body = Buffer.from(String(b.int ?? b.double));
  res.writeHead(status, headers);
  res.end(status === 204 || status === 304 ? undefined : body);
  return status;
}

function cookieHeader(c: RpcCookie): string {
  let s = `${c.name ?? ""}=${c.value ?? ""}`;
  if (c.domain?.value) s += `; Domain=${c.domain.value}`;
  if (c.path?.value) s += `; Path=${c.path.value}`;
  if (c.expires?.value?.seconds !== undefined) s += `; Expires=${new Date(Number(c.expires.value.seconds) * 1000).toUTCString()}`;
  if (c.maxAge?.value !== undefined && c.maxAge.value !== null) s += `; Max-Age=${c.maxAge.value}`;
  if (c.secure?.value) s += "; Secure";
  if (c.httpOnly?.value) s += "; HttpOnly";
  if (c.sameSite === "lax") s += "; SameSite=Lax";
  else if (c.sameSite === "strict") s += "; SameSite=Strict";
  else if (c.sameSite === "explicitNone") s += "; SameSite=None";
  return s;
}
