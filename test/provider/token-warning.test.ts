// The start-up warning for a bearer token sent over plaintext http:// to another machine: printed
// once (stderr) by whichever client sends the token first, never for https:// or a loopback address.
import * as path from "path";
import { SidecarClient } from "../../src/host/sidecar-client";
import { BackendClient } from "../../src/provider/backend-client";
import { isLoopbackHost, plaintextTokenWarning } from "../../src/provider/connection-string";
import { FIXTURES, startFuncHost } from "../helpers/func-process";

const token = { getToken: async () => "secret" };

/** What `fn` writes to stderr. */
function stderrOf(fn: () => void): string[] {
  const spy = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    fn();
    return spy.mock.calls.map((c) => String(c[0]));
  } finally {
    spy.mockRestore();
  }
}

test("http:// to another host warns; https:// and loopback addresses do not", () => {
  expect(plaintextTokenWarning("http://scheduler.example:8080")).toMatch(/^Warning: .*http:\/\/scheduler\.example:8080 .*unencrypted.*https:\/\//);
  for (const remote of ["http://10.0.0.5:8080", "http://localhost.evil.example", "http://128.0.0.1", "http://[::2]:8080"]) {
    expect(plaintextTokenWarning(remote)).toBeDefined();
  }
  for (const safe of ["https://x.westus.durabletask.io", "https://10.0.0.5", "http://localhost:8080", "http://LOCALHOST", "http://127.0.0.1:8080", "http://127.9.8.7", "http://[::1]:8080"]) {
    expect(plaintextTokenWarning(safe)).toBeUndefined();
  }
  expect(isLoopbackHost("localhost.")).toBe(true);
  expect(isLoopbackHost("127.0.0.1.example")).toBe(false);
});

test("the provider's client and the host's sidecar client print it once per endpoint, and only when they send a token", () => {
  const clients: { close(): void }[] = [];
  const lines = stderrOf(() => {
    clients.push(new BackendClient({ endpoint: "http://scheduler-a.example:8080", taskHub: "h", tokenSource: token }));
    clients.push(new SidecarClient("http://scheduler-a.example:8080", { tokenSource: token })); // same endpoint: said already
    clients.push(new SidecarClient("http://scheduler-b.example:8080", { tokenSource: token }));
    clients.push(new BackendClient({ endpoint: "http://scheduler-c.example:8080", taskHub: "h" })); // no token to leak
    clients.push(new SidecarClient("http://scheduler-c.example:8080"));
    clients.push(new BackendClient({ endpoint: "http://127.0.0.1:8080", taskHub: "h", tokenSource: token }));
    clients.push(new SidecarClient("http://localhost:8080", { tokenSource: token }));
    clients.push(new BackendClient({ endpoint: "https://scheduler-d.example", taskHub: "h", tokenSource: token }));
    clients.push(new SidecarClient("https://scheduler-d.example", { tokenSource: token }));
  });
  for (const c of clients) c.close();
  expect(lines).toHaveLength(2);
  expect(lines[0]).toContain("http://scheduler-a.example:8080 is plaintext");
  expect(lines[1]).toContain("http://scheduler-b.example:8080 is plaintext");
});

describe("dts func start", () => {
  // Authentication=Environment with no credentials in the environment: the host creates both of its
  // clients, then stops at its first call because no token can be had, so no scheduler is needed.
  const noCredentials = Object.fromEntries(
    ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE"].map((k) => [k, ""]),
  );
  /** The output of a host that exits at start-up with this connection string. */
  async function failedStartOutput(endpoint: string): Promise<string> {
    const started = startFuncHost(path.join(FIXTURES, "client-app"), { ...noCredentials, DURABLE_TASK_SCHEDULER_CONNECTION_STRING: `Endpoint=${endpoint};TaskHub=default;Authentication=Environment` });
    const err: Error = await started.then(
      async (h) => {
        await h.stop();
        throw new Error("the host started without a token");
      },
      (e: Error) => e,
    );
    expect(err.message).toMatch(/Could not get a token/);
    return err.message;
  }

  test("warns once for a remote http:// endpoint with a token", async () => {
    const out = await failedStartOutput("http://scheduler.invalid:8080");
    expect(out.match(/is plaintext/g)).toHaveLength(1);
    expect(out).toContain("Warning: the Durable Task Scheduler endpoint http://scheduler.invalid:8080 is plaintext");
  });

  test("says nothing for a loopback http:// endpoint", async () => {
    const out = await failedStartOutput("http://127.0.0.1:1");
    expect(out).not.toMatch(/plaintext/);
  });
});
