// End-to-end: one `dts serve` per data directory. A second server on a held --data exits non-zero
// and names the holder; once the holder is killed (no clean shutdown), a new one starts at once.
import * as fs from "fs";
import * as path from "path";
import { SQLITE_FILE } from "../../src/store";
import { DtsProcess, startDts, tempDir } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";

const dataDir = path.join(tempDir("dts-data-dir-"), "data");
const servers: DtsProcess[] = [];

async function serve(): Promise<DtsProcess> {
  const p = await startDts([], { dataDir });
  servers.push(p);
  return p;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

test("a second server on the same --data refuses to start and names the first; after the first is killed a new one starts", async () => {
  const first = await serve();
  expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(dataDir, SQLITE_FILE)).mode & 0o777).toBe(0o600);

  const refused = await startDts([], { dataDir }).then(
    (p) => {
      servers.push(p);
      throw new Error(`the second server started on port ${p.port}`);
    },
    (err: Error) => err.message,
  );
  expect(refused).toMatch(/^dts serve exited with 1 before listening:/);
  expect(refused).toContain(`dts: the data directory ${dataDir} is in use by another dts server (pid ${first.proc.pid} on host `);
  expect(refused).toContain("stop it or use another --data");
  expect(refused).not.toMatch(/\n\s+at /); // the message, not a stack trace

  await first.kill();
  const next = await serve();
  expect(next.port).toBeGreaterThan(0);
  // The line after "listening" may arrive in a later chunk: wait for it.
  await pollUntil(async () => next.output(), (out) => out.includes(`store sqlite at ${dataDir}`), "the store line");
  await next.stop();
});
