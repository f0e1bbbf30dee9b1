// The one place a dashboard request's caller is decided. Without auth every caller may read and act
// on every hub (as on the emulator). With auth on, the caller comes from a bearer token (checked as
// gRPC calls are) or from the signed-in session, and its roles are decided by the same access
// control as gRPC calls, against the dashboard's rows of the role table.
import type { IncomingMessage } from "http";
import { AccessControl, Caller as Principal, DASHBOARD_PERMISSIONS } from "../auth";
import { SchedulerError } from "../core/errors";
import { HttpError } from "./http";
import { Sessions } from "./sign-in/sessions";

export type DashboardAction = keyof typeof DASHBOARD_PERMISSIONS;

export interface Caller {
  /** Who, for the page header; undefined when auth is off. */
  readonly name?: string;
  /** Signed in through the dashboard's sign-in (there is a session to sign out of). */
  readonly session: boolean;
  may(action: DashboardAction, hub: string): boolean;
  /** 403 naming the role needed, when the caller may not. */
  check(action: DashboardAction, hub: string): void;
}

/** No session and no bearer token: pages go to sign-in (when it is on), the JSON API answers 401. */
export class SignInRequired extends HttpError {
  constructor(message: string) {
    super(401, message);
  }
}

const ANYONE: Caller = { session: false, may: () => true, check: () => undefined };

const WHAT: Record<DashboardAction, string> = {
  read: "Viewing a task hub on the dashboard",
  write: "Acting on instances and entities from the dashboard",
  metrics: "Reading /metrics",
};

export class DashboardIdentity {
  constructor(private readonly access: AccessControl, readonly sessions: Sessions, private readonly signInOn: boolean) {}

  async callerOf(req: IncomingMessage): Promise<Caller> {
    if (!this.access.enabled) return ANYONE;
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const principal = await this.access.authenticate(authorization);
      return this.caller(principal, principal.principals[0] ?? "token", false);
    }
    const session = this.sessions.of(req);
    if (session) return this.caller(session.caller, session.name, true);
    throw new SignInRequired(this.signInOn
      ? "Sign in to use the dashboard (tools: send 'Authorization: Bearer <access token>')"
      : "Auth is on and the dashboard's sign-in is off: send 'Authorization: Bearer <access token>', or start dts serve with --dashboard-client-id to sign in with a browser");
  }

  private caller(principal: Principal, name: string, session: boolean): Caller {
    const check = (action: DashboardAction, hub: string) => {
      try {
        this.access.authorize(principal, DASHBOARD_PERMISSIONS[action], hub, WHAT[action]);
      } catch (err) {
        if (err instanceof SchedulerError) throw new HttpError(403, err.message);
        throw err;
      }
    };
    return {
      name, session, check,
      may: (action, hub) => {
        try {
          check(action, hub);
          return true;
        } catch {
          return false;
        }
      },
    };
  }
}
