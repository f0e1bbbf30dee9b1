// `dts serve`'s cluster flags (--node-id, --advertise, --lease-seconds and their variables): the
// defaults, flags winning over the environment, and bad values refused with a message naming the flag.
import * as os from "os";
import { schedulerSettings } from "../../src/cli/serve-settings";
import { runCli, tempDir } from "../helpers/dts-process";

const cluster = (values: Record<string, string>, env: NodeJS.ProcessEnv = {}) => schedulerSettings(values, env).cluster;

test("defaults: <hostname>-<pid>, <hostname>:<port>, 10 s leases; with --port 0 the address waits for the port bound", () => {
  expect(cluster({ port: "7001" })).toEqual({ nodeId: `${os.hostname()}-${process.pid}`, advertise: `${os.hostname()}:7001`, leaseMs: 10_000 });
  expect(cluster({}).advertise).toBe(`${os.hostname()}:8080`);
  expect(cluster({ port: "0" }).advertise).toBeUndefined();
});

test("flags, else the environment", () => {
  const env = { DTS_NODE_ID: "env-node", DTS_ADVERTISE: "10.0.0.5:9000", DTS_LEASE_SECONDS: "20" };
  expect(cluster({}, env)).toEqual({ nodeId: "env-node", advertise: "10.0.0.5:9000", leaseMs: 20_000 });
  expect(cluster({ "node-id": "dts-0", advertise: "[fd00::5]:8080", "lease-seconds": "5" }, env)).toEqual({ nodeId: "dts-0", advertise: "[fd00::5]:8080", leaseMs: 5_000 });
  expect(cluster({ advertise: "dts-0.dts.default.svc.cluster.local:8080" }).advertise).toBe("dts-0.dts.default.svc.cluster.local:8080");
  // A host alone: the port bound is added when the node joins.
  expect(cluster({ advertise: "10.0.0.7" }).advertise).toBe("10.0.0.7");
});

test.each([
  [{ "node-id": "has space" }, "--node-id must be 1 to 100 letters, digits, '.', '_', ':', '@' or '-', got 'has space'"],
  [{ "node-id": "x".repeat(101) }, "--node-id must be 1 to 100"],
  [{ advertise: "bad host" }, "--advertise must be host:port with a port from 1 to 65535, or a host alone for the port bound (an IPv6 address in brackets: [::1]:8080), got 'bad host'"],
  [{ advertise: "host:0" }, "got 'host:0'"],
  [{ advertise: "host:70000" }, "got 'host:70000'"],
  [{ advertise: "::1:8080" }, "got '::1:8080'"],
  [{ "lease-seconds": "1" }, "--lease-seconds must be a whole number >= 2, got '1'"],
  [{ "lease-seconds": "ten" }, "--lease-seconds must be a whole number >= 2, got 'ten'"],
])("refuses %j", (values, message) => {
  expect(() => cluster(values)).toThrow(message);
});

test("dts serve refuses a bad cluster flag with exit code 2 before starting anything", async () => {
  const r = await runCli(["serve", "--port", "0", "--no-dashboard", "--data", tempDir(), "--lease-seconds", "0"], { DTS_LEASE_SECONDS: "" });
  expect([r.code, r.stderr]).toEqual([2, expect.stringContaining("--lease-seconds must be a whole number >= 2, got '0'")]);
});
