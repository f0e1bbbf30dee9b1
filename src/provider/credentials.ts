// Bearer tokens for the managed scheduler: one @azure/identity credential per connection-string
// Authentication type, and a cache that refreshes the token about 5 minutes before it expires (as the
// SDKs do), so every gRPC call can ask for a token without a round trip to the identity service.
import type { AccessToken, TokenCredential } from "@azure/identity";
import { plaintextTokenWarning, SchedulerConnection } from "./connection-string";
import { CredentialError, REFRESH_MARGIN_MS, TokenSource } from "./token-source";
import { CommandTokenSource, FileTokenSource } from "./token-sources";

export { CredentialError, REFRESH_MARGIN_MS, TokenSource } from "./token-source";

export const TOKEN_SCOPE = "https://durabletask.io/.default";

/**
 * The credential for a connection string, or undefined for Authentication=None. @azure/identity is
 * loaded only here and only when needed: it is large, and local schedulers need no token.
 */
export function credentialFor(conn: SchedulerConnection): TokenCredential | undefined {
  if (conn.authentication === "None" || conn.authentication === "TokenFile" || conn.authentication === "TokenCommand") return undefined;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const id = require("@azure/identity") as typeof import("@azure/identity");
  const tenants = conn.additionallyAllowedTenants.length > 0 ? { additionallyAllowedTenants: conn.additionallyAllowedTenants } : {};
  switch (conn.authentication) {
    case "ManagedIdentity":
      return conn.clientId ? new id.ManagedIdentityCredential({ clientId: conn.clientId }) : new id.ManagedIdentityCredential();
    case "WorkloadIdentity":
      return new id.WorkloadIdentityCredential({ tenantId: conn.tenantId, clientId: conn.clientId, tokenFilePath: conn.tokenFilePath, ...tenants });
    case "Environment":
      return new id.EnvironmentCredential({ ...tenants });
    case "AzureCli":
      return new id.AzureCliCredential({ tenantId: conn.tenantId, ...tenants });
    case "AzurePowerShell":
      return new id.AzurePowerShellCredential({ tenantId: conn.tenantId, ...tenants });
    case "VisualStudioCode":
      return new id.VisualStudioCodeCredential({ tenantId: conn.tenantId, ...tenants });
    case "InteractiveBrowser":
      return new id.InteractiveBrowserCredential({ tenantId: conn.tenantId, clientId: conn.clientId, ...tenants });
    case "DefaultAzure":
      return new id.DefaultAzureCredential({ managedIdentityClientId: conn.clientId, tenantId: conn.tenantId, ...tenants });
    case "VisualStudio":
      // The .NET SDK reads Visual Studio's sign-in; @azure/identity for Node has no such credential.
      throw new CredentialError(
        "Authentication=VisualStudio uses Visual Studio's sign-in, which only .NET apps can read: use AzureCli, VisualStudioCode or DefaultAzure in the connection string instead",
      );
  }
}

/** A token source for a connection string; undefined when it needs no token (Authentication=None). */
export function tokenSourceFor(conn: SchedulerConnection): TokenSource | undefined {
  if (conn.authentication === "TokenFile") return new FileTokenSource(conn.tokenFilePath!);
  if (conn.authentication === "TokenCommand") return new CommandTokenSource(conn.tokenCommand!);
  const credential = credentialFor(conn);
  return credential ? new CachedTokenSource(credential) : undefined;
}

/** Endpoints already warned about; the host's management client and its worker share one connection. */
const warnedEndpoints = new Set<string>();

/**
 * Called by each client that will send a bearer token to `endpoint`: prints plaintextTokenWarning to
 * stderr, once per endpoint per process, so `dts func start` says it once for both of its clients.
 */
export function warnIfTokenInPlaintext(endpoint: string): void {
  const warning = plaintextTokenWarning(endpoint);
  const key = new URL(endpoint).origin;
  if (!warning || warnedEndpoints.has(key)) return;
  warnedEndpoints.add(key);
  process.stderr.write(`${warning}\n`);
}

/**
 * Caches a credential's token. A token is refreshed once it is within `marginMs` of expiry (or past
 * the credential's own refreshAfterTimestamp); concurrent callers share one request. If a refresh
 * fails while the cached token is still valid, the cached token is used and the next call tries again.
 */
export class CachedTokenSource implements TokenSource {
  private cached?: AccessToken;
  private pending?: Promise<AccessToken>;

  constructor(
    private readonly credential: TokenCredential,
    private readonly scope = TOKEN_SCOPE,
    private readonly marginMs = REFRESH_MARGIN_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async getToken(): Promise<string> {
    const t = this.cached;
    const now = this.now();
    if (t && now < this.refreshAt(t)) return t.token;
    try {
      return (await this.refresh()).token;
    } catch (err) {
      if (t && now < t.expiresOnTimestamp) return t.token;
      throw new CredentialError(`Could not get a token for ${this.scope}: ${(err as Error).message}`);
    }
  }

  private refreshAt(t: AccessToken): number {
    const byMargin = t.expiresOnTimestamp - this.marginMs;
    return t.refreshAfterTimestamp !== undefined ? Math.min(t.refreshAfterTimestamp, byMargin) : byMargin;
  }

  private refresh(): Promise<AccessToken> {
    this.pending ??= (async () => {
      try {
        const t = await this.credential.getToken(this.scope);
        if (!t) throw new Error("the credential returned no token");
        this.cached = t;
        return t;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}

/**
 * Token sources by scope over one credential, for durable HTTP's ManagedIdentityTokenSource (any
 * resource an orchestration names). The credential is made on first use: without callHttp token
 * sources @azure/identity is never loaded.
 */
export class TokenSourceCache {
  private readonly sources = new Map<string, TokenSource>();
  private credential?: TokenCredential;

  constructor(private readonly makeCredential: () => TokenCredential = defaultAzureCredential) {}

  forScope(scope: string): TokenSource {
    let source = this.sources.get(scope);
    if (!source) {
      this.credential ??= this.makeCredential();
      source = new CachedTokenSource(this.credential, scope);
      this.sources.set(scope, source);
    }
    return source;
  }
}

/** What the extension's ManagedIdentityTokenSource uses: the managed identity on Azure, developer sign-ins locally. */
export function defaultAzureCredential(): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const id = require("@azure/identity") as typeof import("@azure/identity");
  return new id.DefaultAzureCredential();
}
