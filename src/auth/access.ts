// The one place a request's caller is decided: who sent it (from the bearer token) and whether that
// caller may do an operation on a task hub. The gRPC edge asks it for every call; the dashboard will
// ask it with its session's token the same way.
import { SchedulerError } from "../core/errors";
import { RoleAssignment } from "./role-assignments";
import { CONTRIBUTOR, includes, Permission, Role, roleNamed, SCHEDULER_SCOPE } from "./roles";
import { TokenVerifier, unauthenticated } from "./token-verifier";

export interface Caller {
  /** The ids role assignments may name: `oid` (else `sub`), `appid`, `azp`. Empty for the anonymous caller. */
  principals: string[];
  /** Roles the token itself carries (trusted with --auth-trust-token-roles), on every hub. */
  tokenRoles: Role[];
  /** When the token stops being accepted (ms since the epoch, skew included); undefined: never. */
  acceptedUntil?: number;
}

export interface AccessControl {
  /** False when there is no authentication: every call is allowed and nothing needs checking. */
  readonly enabled: boolean;
  /** The caller behind an `authorization` header value; UNAUTHENTICATED when there is none or it is not valid. */
  authenticate(authorization: string | undefined): Promise<Caller>;
  /** The caller for a header value authenticated before and still accepted, without waiting; undefined otherwise. */
  known(authorization: string | undefined): Caller | undefined;
  /** Throws PERMISSION_DENIED naming the role and hub when the caller may not do `what` on `hub`. */
  authorize(caller: Caller, permission: Permission, hub: string, what: string): void;
}

const ANONYMOUS: Caller = { principals: [], tokenRoles: [CONTRIBUTOR] };

/** No authentication (the local default, like the emulator): everyone may do everything. */
export const OPEN_ACCESS: AccessControl = {
  enabled: false,
  authenticate: async () => ANONYMOUS,
  known: () => ANONYMOUS,
  authorize: () => undefined,
};

export interface TokenAccessOptions {
  verifier: TokenVerifier;
  /** The current assignments (re-read from their file as it changes). */
  assignments: () => readonly RoleAssignment[];
  trustTokenRoles: boolean;
}

/** Callers remembered by header value: a worker sends one token with thousands of calls. */
const KNOWN_CALLERS = 10_000;

export class TokenAccess implements AccessControl {
  readonly enabled = true;
  private readonly callers = new Map<string, Caller>();

  constructor(private readonly options: TokenAccessOptions) {}

  known(authorization: string | undefined): Caller | undefined {
    if (authorization === undefined) return undefined;
    const caller = this.callers.get(authorization);
    if (caller && caller.acceptedUntil !== undefined && caller.acceptedUntil > Date.now()) return caller;
    if (caller) this.callers.delete(authorization);
    return undefined;
  }

  async authenticate(authorization: string | undefined): Promise<Caller> {
    const known = this.known(authorization);
    if (known) return known;
    const caller = await this.identify(authorization);
    if (this.callers.size >= KNOWN_CALLERS) this.callers.delete(this.callers.keys().next().value as string);
    this.callers.set(authorization!, caller);
    return caller;
  }

  private async identify(authorization: string | undefined): Promise<Caller> {
    if (!authorization) {
      throw unauthenticated("This scheduler requires a bearer token: send the metadata 'authorization: Bearer <token>' (SDKs: a credential or a metadata generator; Functions apps: Authentication= in the connection string)");
    }
    const m = /^Bearer +(\S+)\s*$/i.exec(authorization);
    if (!m) throw unauthenticated("The authorization metadata must be 'Bearer <token>'");
    return this.fromClaims(await this.options.verifier.verify(m[1]));
  }

  /**
   * The caller a verified token's claims describe, as for a gRPC call: the dashboard's sign-in gives
   * its ID token's claims here, leaving out `ignored` (its own client id, the `azp` of every user's
   * ID token: a role granted to the dashboard app must not pass to everyone who signs in).
   */
  fromClaims(claims: Record<string, unknown>, ignored?: string): Caller {
    const ids = [claims.oid ?? claims.sub, claims.appid, claims.azp].filter((v): v is string => typeof v === "string" && v !== "" && v !== ignored);
    const tokenRoles = this.options.trustTokenRoles && Array.isArray(claims.roles)
      ? claims.roles.map((r) => (typeof r === "string" ? roleNamed(r) : undefined)).filter((r): r is Role => r !== undefined)
      : [];
    const exp = typeof claims.exp === "number" ? (claims.exp + this.options.verifier.clockSkewSeconds) * 1000 : undefined;
    return { principals: [...new Set(ids)], tokenRoles, acceptedUntil: exp };
  }

  authorize(caller: Caller, permission: Permission, hub: string, what: string): void {
    if (this.roles(caller, permission.scope === "scheduler" ? undefined : hub).some((r) => includes(r, permission.role))) return;
    const who = caller.principals.length > 0 ? `principal '${caller.principals[0]}'` : "the caller";
    const where = permission.scope === "scheduler" ? `the whole scheduler (scope "${SCHEDULER_SCOPE}")` : `task hub '${hub}' (scope "${hub}" or "${SCHEDULER_SCOPE}")`;
    throw new SchedulerError("PERMISSION_DENIED", `${what} needs the role ${permission.role}${permission.role === CONTRIBUTOR ? "" : " or above"} on ${where}; ${who} does not have it`);
  }

  /** The caller's roles on a hub (undefined: roles on the whole scheduler only). Hub names compare as the scheduler does, case-insensitively. */
  private roles(caller: Caller, hub: string | undefined): Role[] {
    const key = hub?.trim().toLowerCase();
    const held = this.options.assignments()
      .filter((a) => caller.principals.includes(a.principal) && (a.scope === SCHEDULER_SCOPE || (key !== undefined && a.scope.toLowerCase() === key)))
      .map((a) => a.role);
    return [...held, ...caller.tokenRoles];
  }
}
