// `dts serve --store postgres` refuses to start, with exit code 1 and a message naming the fix, when
// it has no URL, a URL that is not PostgreSQL's, or a server it cannot reach; the password is never printed.
import { deadPort, runCli, tempDir } from "../helpers/dts-process";

const serve = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(["serve", "--store", "postgres", "--port", "0", "--no-dashboard", "--data", tempDir(), ...args], { DTS_POSTGRES_URL: "", DTS_STORE: "", ...env });

test("no URL: exit 1, naming --postgres-url and DTS_POSTGRES_URL", async () => {
  const r = await serve([]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/--store postgres needs the database's address: pass --postgres-url postgres:\/\/user:password@host:5432\/database \(or set DTS_POSTGRES_URL\)/);
});

test("a URL that is not PostgreSQL's: exit 1, with an example", async () => {
  const wrongScheme = await serve(["--postgres-url", "mysql://u:p@db/x"]);
  expect(wrongScheme.code).toBe(1);
  expect(wrongScheme.stderr).toMatch(/--postgres-url must start with postgres:\/\/ or postgresql:\/\/, not mysql:\/\//);
  const notUrl = await serve([], { DTS_STORE: "postgres", DTS_POSTGRES_URL: "not a url" });
  expect(notUrl.code).toBe(1);
  expect(notUrl.stderr).toMatch(/--postgres-url is not a URL; pass one like postgres:\/\//);
});

test("a server it cannot reach: exit 1, naming where it tried and what to check, without the password", async () => {
  const port = await deadPort();
  const r = await serve(["--postgres-url", `postgres://alice:s3cret-pw@127.0.0.1:${port}/orders?sslmode=disable`]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`cannot use the PostgreSQL database at alice@127\\.0\\.0\\.1:${port}/orders \\(ECONNREFUSED.*check --postgres-url, that the server runs`));
  expect(r.stdout + r.stderr).not.toContain("s3cret-pw");
});
