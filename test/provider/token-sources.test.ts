// Tokens for self-hosted identity providers: Authentication=TokenFile and TokenCommand.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConnectionString } from "../../src/provider/connection-string";
import { CredentialError, tokenSourceFor } from "../../src/provider/credentials";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "dts-tokens-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test("TokenFile: the file's token, read again when the file changes", async () => {
  const file = path.join(dir, "token");
  fs.writeFileSync(file, "first-token\n");
  const source = tokenSourceFor(parseConnectionString(`Endpoint=http://localhost:1;Authentication=TokenFile;TokenFilePath=${file}`))!;
  expect(await source.getToken()).toBe("first-token");
  fs.writeFileSync(file, "the-second-token");
  expect(await source.getToken()).toBe("the-second-token");
  fs.rmSync(file);
  await expect(source.getToken()).rejects.toThrow(CredentialError);
  await expect(source.getToken()).rejects.toThrow(/Cannot read the token file .*token \(TokenFilePath in the connection string\): ENOENT/);
});

test("TokenCommand: the command's output, reused rather than run per call; a failing command says why", async () => {
  const counter = path.join(dir, "runs");
  const command = `echo x >> '${counter}'; echo opaque-token`;
  const source = tokenSourceFor(parseConnectionString(`Endpoint=http://localhost:1;Authentication=TokenCommand;TokenCommand="${command}"`))!;
  const [a, b] = await Promise.all([source.getToken(), source.getToken()]);
  expect([a, b, await source.getToken()]).toEqual(["opaque-token", "opaque-token", "opaque-token"]);
  expect(fs.readFileSync(counter, "utf8").trim().split("\n")).toHaveLength(1);
  const failing = tokenSourceFor(parseConnectionString(`Endpoint=http://localhost:1;Authentication=TokenCommand;TokenCommand="echo no login >&2; exit 3"`))!;
  await expect(failing.getToken()).rejects.toThrow(/The token command \(TokenCommand in the connection string\) failed: no login/);
});

test("each needs its key", () => {
  expect(() => parseConnectionString("Endpoint=http://localhost:1;Authentication=TokenFile")).toThrow(/without TokenFilePath/);
  expect(() => parseConnectionString("Endpoint=http://localhost:1;Authentication=TokenCommand")).toThrow(/without TokenCommand/);
});
