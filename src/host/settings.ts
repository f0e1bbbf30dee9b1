// The parts of host.json the host itself needs (the HTTP route prefix). The files are read by the
// provider's app-files module; the Durable Task section is the provider adapter's (provider/config.ts).
import { isJsonObject, JsonObject } from "../provider/app-files";

/** extensions.http.routePrefix, "api" by default; "" serves HTTP triggers at the root. */
export function httpRoutePrefix(hostJson: JsonObject): string {
  const ext = isJsonObject(hostJson.extensions) ? hostJson.extensions : {};
  const http = isJsonObject(ext.http) ? ext.http : {};
  const prefix = typeof http.routePrefix === "string" ? http.routePrefix : "api";
  return prefix.replace(/^\/+|\/+$/g, "");
}
