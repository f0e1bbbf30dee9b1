// GET /admin/host/status, as the Functions host answers it: tools (VS Code, test scripts) poll it
// until `state` is "Running" before they call the app.
import { createHash } from "crypto";
import * as os from "os";
import { HOST_VERSION } from "./functions-core";

export const HOST_STATUS_PATH = "/admin/host/status";

/** The Functions host's ScriptHostState names. */
export type HostState = "Default" | "Starting" | "Initialized" | "Running" | "Error" | "Stopping" | "Stopped" | "Offline";

export class HostStatus {
  private current: HostState = "Default";
  private lastError: string | undefined;
  /** Like the real host's local id: the machine name, lower-case, at most 32 characters. */
  private readonly id = os.hostname().toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 32) || "localhost";
  private readonly instanceId = createHash("sha256").update(`${os.hostname()}:${process.pid}`).digest("hex").slice(0, 32);

  get state(): HostState {
    return this.current;
  }

  /** Moves to `state`; an error text is reported under `errors` until the next move. */
  set(state: HostState, error?: string): void {
    this.current = state;
    this.lastError = error;
  }

  /** The body of GET /admin/host/status (the fields of the real host's HostStatus, plus processId). */
  payload(): Record<string, unknown> {
    return {
      id: this.id,
      state: this.current,
      version: HOST_VERSION,
      versionDetails: `${HOST_VERSION} (dts func, a local stand-in for the Azure Functions host)`,
      platformVersion: "",
      instanceId: this.instanceId,
      computerName: os.hostname(),
      processUptime: Math.round(process.uptime() * 1000),
      processId: process.pid,
      functionAppContentEditingState: "Unknown",
      ...(this.lastError ? { errors: [this.lastError] } : {}),
    };
  }
}
