// `dts serve --partitions`: documented in --help, checked at start-up with a message naming the fix.
import { runCli } from "../helpers/dts-process";

test("--help documents --partitions and DTS_PARTITIONS", async () => {
  const r = await runCli(["serve", "--help"]);
  expect(r.stdout + r.stderr).toMatch(/--partitions <n> .*\[DTS_PARTITIONS\] \(default 16 with postgres, 1 otherwise; sqlite: 1 only\)/);
});

test.each([
  [["--store", "sqlite", "--partitions", "4"], {}, /--partitions 4 needs --store postgres \(or memory\): the SQLite store keeps a task hub in one partition/],
  [["--store", "sqlite"], { DTS_PARTITIONS: "2" }, /--partitions 2 needs --store postgres/],
  [["--store", "memory", "--partitions", "0"], {}, /--partitions/],
  [["--store", "memory", "--partitions", "2000"], {}, /--partitions must be at most 1024, got 2000/],
] as [string[], NodeJS.ProcessEnv, RegExp][])("dts serve %j %j is a usage error", async (args, env, message) => {
  const r = await runCli(["serve", "--port", "0", "--no-dashboard", ...args], env);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
});
