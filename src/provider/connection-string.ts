// The managed Durable Task Scheduler's connection string, as Functions apps keep it in an app setting:
// `Endpoint=https://NAME.REGION.durabletask.io;TaskHub=HUB;Authentication=ManagedIdentity;ClientID=<guid>`.
// Keys and the Authentication value are case-insensitive (like the .NET and Java parsers); every
// error says which key to fix and what it accepts, since users type these strings by hand.

/** The Authentication values the managed scheduler's SDKs accept, in their canonical spelling. */
export const AUTHENTICATION_TYPES = [
  "DefaultAzure", "ManagedIdentity", "WorkloadIdentity", "Environment", "AzureCli", "AzurePowerShell",
  "VisualStudio", "VisualStudioCode", "InteractiveBrowser", "None",
  // Ours, for self-hosted identity providers: a token from a file (TokenFilePath) or a command (TokenCommand).
  "TokenFile", "TokenCommand",
] as const;

export type AuthenticationType = (typeof AUTHENTICATION_TYPES)[number];

export interface SchedulerConnection {
  /** Absolute URL with scheme (https:// added when the string has none), without a trailing slash. */
  endpoint: string;
  /** The TaskHub key; optional here because host.json or TASKHUB_NAME may name the hub instead. */
  taskHub?: string;
  authentication: AuthenticationType;
  clientId?: string;
  tenantId?: string;
  tokenFilePath?: string;
  /** Authentication=TokenCommand: a shell command that prints an access token. */
  tokenCommand?: string;
  additionallyAllowedTenants: string[];
}

export class ConnectionStringError extends Error {}

const KEYS = {
  endpoint: "Endpoint", taskhub: "TaskHub", authentication: "Authentication", clientid: "ClientID",
  tenantid: "TenantId", tokenfilepath: "TokenFilePath", tokencommand: "TokenCommand", additionallyallowedtenants: "AdditionallyAllowedTenants",
} as const;

/**
 * Parses a connection string. `source` names where it came from (e.g. the app setting), so errors
 * point at the place to edit.
 */
export function parseConnectionString(text: string, source = "the connection string"): SchedulerConnection {
  const values = splitPairs(text, source);
  const endpointText = values.get("endpoint");
  if (!endpointText) {
    throw new ConnectionStringError(`${source} has no Endpoint: add e.g. 'Endpoint=http://localhost:8080' (the scheduler's address)`);
  }
  const authText = values.get("authentication");
  if (authText === undefined || authText === "") {
    throw new ConnectionStringError(`${source} has no Authentication: add e.g. 'Authentication=None' (local scheduler) or 'Authentication=ManagedIdentity'; allowed values: ${AUTHENTICATION_TYPES.join(", ")}`);
  }
  const authentication = AUTHENTICATION_TYPES.find((t) => t.toLowerCase() === authText.toLowerCase());
  if (!authentication) {
    throw new ConnectionStringError(`${source} has Authentication='${authText}', which is not supported; allowed values: ${AUTHENTICATION_TYPES.join(", ")}`);
  }
  const tenants = values.get("additionallyallowedtenants");
  if (authentication === "TokenFile" && !values.get("tokenfilepath")) {
    throw new ConnectionStringError(`${source} has Authentication=TokenFile without TokenFilePath: add 'TokenFilePath=<file holding the access token>'`);
  }
  if (authentication === "TokenCommand" && !values.get("tokencommand")) {
    throw new ConnectionStringError(`${source} has Authentication=TokenCommand without TokenCommand: add 'TokenCommand="<command printing an access token>"'`);
  }
  return {
    endpoint: normalizeEndpoint(endpointText, source),
    taskHub: values.get("taskhub") || undefined,
    authentication,
    clientId: values.get("clientid") || undefined,
    tenantId: values.get("tenantid") || undefined,
    tokenFilePath: values.get("tokenfilepath") || undefined,
    tokenCommand: values.get("tokencommand") || undefined,
    additionallyAllowedTenants: tenants ? tenants.split(",").map((t) => t.trim()).filter((t) => t !== "") : [],
  };
}

/** `key=value` pairs separated by `;`; values may be quoted ("a;b" or 'a;b'). Unknown keys are ignored, as the SDKs do. */
function splitPairs(text: string, source: string): Map<string, string> {
  const values = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    const semi = text.indexOf(";", i);
    if (eq < 0 || (semi >= 0 && semi < eq)) {
      const segment = text.slice(i, semi < 0 ? text.length : semi).trim();
      if (segment !== "") throw new ConnectionStringError(`${source} has '${segment}' without '=': write each part as Key=Value, separated by ';'`);
      i = semi < 0 ? text.length : semi + 1;
      continue;
    }
    const key = text.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (j < text.length && text[j] === " ") j++;
    let value: string;
    const quote = text[j];
    if (quote === '"' || quote === "'") {
      const close = text.indexOf(quote, j + 1);
      if (close < 0) throw new ConnectionStringError(`${source} has an unclosed ${quote} in the value of '${text.slice(i, eq).trim()}'`);
      value = text.slice(j + 1, close);
      const after = text.indexOf(";", close);
      i = after < 0 ? text.length : after + 1;
    } else {
      const end = text.indexOf(";", j);
      value = text.slice(j, end < 0 ? text.length : end).trim();
      i = end < 0 ? text.length : end + 1;
    }
    if (key === "") throw new ConnectionStringError(`${source} has a value without a key ('=${value}')`);
    if (key in KEYS) values.set(key, value);
  }
  return values;
}

function normalizeEndpoint(text: string, source: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConnectionStringError(`${source} has Endpoint='${text}', which is not a valid address: write e.g. 'Endpoint=https://NAME.REGION.durabletask.io' or 'Endpoint=http://localhost:8080'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConnectionStringError(`${source} has Endpoint='${text}' with scheme '${url.protocol.slice(0, -1)}': use https:// (TLS) or http:// (plaintext, local schedulers)`);
  }
  return withScheme.replace(/\/+$/, "");
}

/** Is `hostname` (as URL.hostname gives it: lower case, IPv6 in brackets) this machine's loopback: localhost, 127.x.x.x or ::1? */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h === "[::1]" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The start-up warning for sending a bearer token to `endpoint` (an absolute URL), or undefined when
 * that is safe: over https://, or over http:// to a loopback address (a local scheduler, where
 * plaintext is the norm). http:// is still allowed elsewhere; the user should know what it costs.
 */
export function plaintextTokenWarning(endpoint: string): string | undefined {
  const url = new URL(endpoint);
  if (url.protocol === "https:" || isLoopbackHost(url.hostname)) return undefined;
  return `Warning: the Durable Task Scheduler endpoint ${url.origin} is plaintext (${url.protocol}//) and not on this machine, ` +
    "so the connection string's bearer token is sent unencrypted and anyone on the network path can read and reuse it. " +
    "Use an https:// endpoint for a remote scheduler (http:// is meant for localhost).";
}

/** A connection string that parses back to `c` (values with ';' or a leading quote are quoted). */
export function formatConnectionString(c: SchedulerConnection): string {
  const quote = (v: string) => (!/[;"']/.test(v) && v.trim() === v ? v : !v.includes('"') ? `"${v}"` : `'${v}'`);
  const pairs: [string, string | undefined][] = [
    [KEYS.endpoint, c.endpoint], [KEYS.taskhub, c.taskHub], [KEYS.authentication, c.authentication], [KEYS.clientid, c.clientId],
    [KEYS.tenantid, c.tenantId], [KEYS.tokenfilepath, c.tokenFilePath], [KEYS.tokencommand, c.tokenCommand],
    [KEYS.additionallyallowedtenants, c.additionallyAllowedTenants.length > 0 ? c.additionallyAllowedTenants.join(",") : undefined],
  ];
  return pairs.filter((p): p is [string, string] => p[1] !== undefined).map(([k, v]) => `${k}=${quote(v)}`).join(";");
}
