// The one place a dashboard request's caller is decided. Without identity every caller may read and
// act on every hub (as on the emulator); sign-in and roles (the identity issue) decide it here.
import type { IncomingMessage } from "http";

export type DashboardAction = "read" | "write";

export interface Caller {
  readonly name: string;
  may(action: DashboardAction, hub: string): boolean;
}

const ANYONE: Caller = { name: "anonymous", may: () => true };

export function callerOf(_req: IncomingMessage): Caller {
  return ANYONE;
}
