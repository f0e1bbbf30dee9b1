// One JSON API request as the route handlers see it, and the route table's entries: a method, a
// path under …/taskhubs/ with :name parameters, and whether the route reads or changes the hub.
import type { IncomingMessage, ServerResponse } from "http";
import { DashboardAction } from "../caller";
import { HubAccess } from "../hub-access";
import { Json } from "./request-body";

export interface ApiCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The served hub named by the x-taskhub header. */
  hub: string;
  params: Record<string, string>;
  /** The prefix the client used (/v1/taskhubs or /api/v1/taskhubs), for links back. */
  base: string;
  /** The JSON body, read once on first use. */
  body(): Promise<Json | undefined>;
}

export interface ApiRoute {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  access: DashboardAction;
  handle(access: HubAccess, call: ApiCall): Promise<void> | void;
}

/** The route's parameters when `segments` (already decoded) fit its path, else undefined. */
export function matchPath(route: ApiRoute, segments: string[]): Record<string, string> | undefined {
  const pattern = route.path.split("/");
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(":")) params[pattern[i].slice(1)] = segments[i];
    else if (pattern[i] !== segments[i].toLowerCase()) return undefined;
  }
  return params;
}
