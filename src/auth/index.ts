// Identity and roles: bearer tokens checked against trusted issuers, roles from an assignments file
// (and optionally the token), and the access decision the gRPC edge and the dashboard share.
import { AccessControl, OPEN_ACCESS, TokenAccess } from "./access";
import * as fs from "fs";
import { RoleAssignment, RoleAssignmentsFile } from "./role-assignments";
import { OidcSignIn } from "./sign-in";
import { AuthConfigError, TokenVerifier } from "./token-verifier";

export { AccessControl, Caller, OPEN_ACCESS } from "./access";
export { AuthConfigError, DEFAULT_AUDIENCE, DEFAULT_CLOCK_SKEW_SECONDS } from "./token-verifier";
export { RoleAssignmentsError } from "./role-assignments";
export { OidcSignIn, PendingSignIn, SignedIn } from "./sign-in";
export { DASHBOARD_PERMISSIONS } from "./roles";
export { isLoopbackHost } from "./loopback";

export interface AuthSettings {
  issuers: string[];
  jwks?: string;
  tenant?: string;
  audiences: string[];
  clockSkewSeconds?: number;
  roleAssignmentsFile?: string;
  trustTokenRoles: boolean;
  /** The dashboard's client id at the (first) issuer: turns on its sign-in. */
  dashboardClientId?: string;
  /** A file holding its client secret, for providers that register it as a confidential client. */
  dashboardClientSecretFile?: string;
}

/** Is authentication asked for at all (an issuer, a tenant or a key set)? */
export function authRequested(s: AuthSettings): boolean {
  return s.issuers.length > 0 || s.jwks !== undefined || s.tenant !== undefined;
}

export interface RunningAccess {
  access: AccessControl;
  /** A line for the start-up log describing the mode. */
  summary: string;
  /** The dashboard's sign-in, when auth is on and --dashboard-client-id is given. */
  signIn?: OidcSignIn;
  close(): void;
}

/** The access control for the settings: open when no auth is asked for; token checks and watched assignments otherwise. */
export function startAccess(s: AuthSettings, log: (line: string) => void = (l) => console.log(l)): RunningAccess {
  if (!authRequested(s)) {
    if (s.dashboardClientId) throw new AuthConfigError("--dashboard-client-id signs people in to the dashboard when auth is on: add --auth-issuer (or --auth-tenant)");
    return { access: OPEN_ACCESS, summary: "auth off (no --auth-issuer, --auth-tenant or --auth-jwks)", close: () => undefined };
  }
  const verifier = new TokenVerifier({ issuers: s.issuers, jwks: s.jwks, tenant: s.tenant, audiences: s.audiences, clockSkewSeconds: s.clockSkewSeconds });
  const file = s.roleAssignmentsFile ? new RoleAssignmentsFile(s.roleAssignmentsFile, log) : undefined;
  file?.watch();
  const none: readonly RoleAssignment[] = [];
  const access = new TokenAccess({ verifier, assignments: () => file?.current() ?? none, trustTokenRoles: s.trustTokenRoles });
  const roles = [file ? `${file.current().length} role assignments from ${file.file} (watched)` : "no role assignments file", s.trustTokenRoles ? "roles in tokens trusted" : ""].filter(Boolean).join(", ");
  if (!file && !s.trustTokenRoles) log("dts: warning: auth is on but no role is granted to anyone: add --role-assignments <file.json> or --auth-trust-token-roles");
  let signIn: OidcSignIn | undefined;
  try {
    signIn = dashboardSignIn(s, verifier, access);
  } catch (err) {
    file?.close();
    throw err;
  }
  return { access, signIn, summary: `auth on: audience ${s.audiences.join(", ")}; ${roles}`, close: () => file?.close() };
}

function dashboardSignIn(s: AuthSettings, verifier: TokenVerifier, access: TokenAccess): OidcSignIn | undefined {
  if (!s.dashboardClientId) {
    if (s.dashboardClientSecretFile) throw new AuthConfigError("--dashboard-client-secret-file goes with --dashboard-client-id");
    return undefined;
  }
  const issuer = verifier.firstIssuer;
  if (!issuer) throw new AuthConfigError("the dashboard's sign-in needs an issuer to send people to: add --auth-issuer (or --auth-tenant); --auth-jwks alone has none");
  let clientSecret: string | undefined;
  if (s.dashboardClientSecretFile) {
    try {
      clientSecret = fs.readFileSync(s.dashboardClientSecretFile, "utf8").trim();
    } catch (err) {
      throw new AuthConfigError(`--dashboard-client-secret-file '${s.dashboardClientSecretFile}' cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!clientSecret) throw new AuthConfigError(`--dashboard-client-secret-file '${s.dashboardClientSecretFile}' is empty`);
  }
  return new OidcSignIn(issuer, { clientId: s.dashboardClientId, clientSecret }, verifier, access);
}
