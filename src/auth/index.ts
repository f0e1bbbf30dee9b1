// Identity and roles: bearer tokens checked against trusted issuers, roles from an assignments file
// (and optionally the token), and the access decision the gRPC edge and the dashboard share.
import { AccessControl, OPEN_ACCESS, TokenAccess } from "./access";
import { RoleAssignment, RoleAssignmentsFile } from "./role-assignments";
import { TokenVerifier } from "./token-verifier";

export { AccessControl, Caller, OPEN_ACCESS } from "./access";
export { AuthConfigError, DEFAULT_AUDIENCE, DEFAULT_CLOCK_SKEW_SECONDS } from "./token-verifier";
export { RoleAssignmentsError } from "./role-assignments";
export { isLoopbackHost } from "./loopback";

export interface AuthSettings {
  issuers: string[];
  jwks?: string;
  tenant?: string;
  audiences: string[];
  clockSkewSeconds?: number;
  roleAssignmentsFile?: string;
  trustTokenRoles: boolean;
}

/** Is authentication asked for at all (an issuer, a tenant or a key set)? */
export function authRequested(s: AuthSettings): boolean {
  return s.issuers.length > 0 || s.jwks !== undefined || s.tenant !== undefined;
}

export interface RunningAccess {
  access: AccessControl;
  /** A line for the start-up log describing the mode. */
  summary: string;
  close(): void;
}

/** The access control for the settings: open when no auth is asked for; token checks and watched assignments otherwise. */
export function startAccess(s: AuthSettings, log: (line: string) => void = (l) => console.log(l)): RunningAccess {
  if (!authRequested(s)) return { access: OPEN_ACCESS, summary: "auth off (no --auth-issuer, --auth-tenant or --auth-jwks)", close: () => undefined };
  const verifier = new TokenVerifier({ issuers: s.issuers, jwks: s.jwks, tenant: s.tenant, audiences: s.audiences, clockSkewSeconds: s.clockSkewSeconds });
  const file = s.roleAssignmentsFile ? new RoleAssignmentsFile(s.roleAssignmentsFile, log) : undefined;
  file?.watch();
  const none: readonly RoleAssignment[] = [];
  const access = new TokenAccess({ verifier, assignments: () => file?.current() ?? none, trustTokenRoles: s.trustTokenRoles });
  const roles = [file ? `${file.current().length} role assignments from ${file.file} (watched)` : "no role assignments file", s.trustTokenRoles ? "roles in tokens trusted" : ""].filter(Boolean).join(", ");
  if (!file && !s.trustTokenRoles) log("dts: warning: auth is on but no role is granted to anyone: add --role-assignments <file.json> or --auth-trust-token-roles");
  return { access, summary: `auth on: audience ${s.audiences.join(", ")}; ${roles}`, close: () => file?.close() };
}
