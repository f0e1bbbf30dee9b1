// The scale monitor over HTTP: GET /runtime/webhooks/durabletask/scale[?taskHub=<hub>] answers the
// app's task hub's (or the named hub's) metrics, target worker count and vote as JSON (scale/monitor.ts
// ScaleStatus): 200 when the scheduler answered, 503 with the reason when it did not. App settings
// DTS_SCALE_CACHE_SECONDS (default 5) and DTS_SCALE_VOTE_SAMPLES (default 5) tune it.
import { ProviderConfig } from "../provider/config";
import { limitsFromConfig } from "../../scale/limits";
import { DEFAULT_CACHE_MS } from "../../scale/metrics-source";
import { MonitorRegistry } from "../../scale/registry";
import { DEFAULT_WINDOW_SIZE } from "../../scale/votes";
import type { ApiRequest, ApiResponse } from "./management-api";
import { WEBHOOK_PATH } from "./webhook-urls";

export const SCALE_PATH = `${WEBHOOK_PATH}/scale`;

export class ScaleEndpoint {
  private readonly registry: MonitorRegistry;

  constructor(private readonly config: ProviderConfig) {
    this.registry = new MonitorRegistry({
      cacheMs: setting(config, "DTS_SCALE_CACHE_SECONDS", DEFAULT_CACHE_MS / 1000, 0) * 1000,
      windowSize: setting(config, "DTS_SCALE_VOTE_SAMPLES", DEFAULT_WINDOW_SIZE, 1, true),
    });
  }

  matches(pathname: string): boolean {
    const p = pathname.toLowerCase().replace(/\/+$/, "");
    return p === SCALE_PATH;
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    if (req.method !== "GET") return { status: 405, headers: { Allow: "GET" } };
    const hub = req.url.searchParams.get("taskHub") || req.url.searchParams.get("taskhub") || this.config.hubName;
    const status = await this.registry.monitor(this.config.connection, hub, limitsFromConfig(this.config)).status();
    return { status: status.state === "ok" ? 200 : 503, body: status };
  }

  close(): void {
    this.registry.close();
  }
}

/** A numeric app setting; a bad value stops the host with a message naming the setting. */
function setting(config: ProviderConfig, name: string, dflt: number, min: number, integer = false): number {
  const text = config.settings[name];
  if (text === undefined || text.trim() === "") return dflt;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`The app setting ${name} must be a ${integer ? "whole " : ""}number of at least ${min} (it is '${text}')`);
  }
  return n;
}
