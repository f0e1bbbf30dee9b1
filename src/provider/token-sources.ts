// Bearer tokens for self-hosted identity providers, where @azure/identity has no credential:
// `Authentication=TokenFile;TokenFilePath=<file>` (a token some other process keeps fresh, e.g. a
// Kubernetes projected service account token or an agent's sink file) and
// `Authentication=TokenCommand;TokenCommand=<command>` (a command that prints a token).
import { exec } from "child_process";
import * as fs from "fs";
import { CredentialError, REFRESH_MARGIN_MS, TokenSource } from "./token-source";

/** A token with no readable expiry is fetched again after this long. */
const UNKNOWN_EXPIRY_REUSE_MS = 60_000;
const COMMAND_TIMEOUT_MS = 30_000;

/** The file's content (trimmed), read again whenever the file changes. */
export class FileTokenSource implements TokenSource {
  private cached?: { mtimeMs: number; size: number; token: string };

  constructor(private readonly file: string) {}

  async getToken(): Promise<string> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(this.file);
    } catch (err) {
      throw new CredentialError(`Cannot read the token file ${this.file} (TokenFilePath in the connection string): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const c = this.cached;
    if (c && c.mtimeMs === stat.mtimeMs && c.size === stat.size) return c.token;
    const token = (await fs.promises.readFile(this.file, "utf8")).trim();
    if (token === "") throw new CredentialError(`The token file ${this.file} is empty`);
    this.cached = { mtimeMs: stat.mtimeMs, size: stat.size, token };
    return token;
  }
}

/** The command's standard output (trimmed); run again 5 minutes before the token's `exp`, or every minute when it has none. */
export class CommandTokenSource implements TokenSource {
  private cached?: { token: string; refreshAt: number };
  private pending?: Promise<string>;

  constructor(private readonly command: string, private readonly now: () => number = Date.now) {}

  async getToken(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return this.cached.token;
    this.pending ??= this.run().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private run(): Promise<string> {
    return new Promise((resolve, reject) => {
      exec(this.command, { timeout: COMMAND_TIMEOUT_MS, windowsHide: true }, (err, stdout, stderr) => {
        if (err) {
          reject(new CredentialError(`The token command (TokenCommand in the connection string) failed: ${String(stderr).trim() || err.message}`));
          return;
        }
        const token = String(stdout).trim();
        if (token === "") {
          reject(new CredentialError("The token command (TokenCommand in the connection string) printed nothing; it must print an access token"));
          return;
        }
        this.cached = { token, refreshAt: refreshTime(token, this.now()) };
        resolve(token);
      });
    });
  }
}

/** When to fetch again: REFRESH_MARGIN_MS before the JWT's exp (at most half its remaining life early). */
function refreshTime(token: string, now: number): number {
  let exp: number | undefined;
  try {
    // jose is an ES module; loaded here only, so apps without a token command never load it.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { decodeJwt } = require("jose") as typeof import("jose");
    const claims = decodeJwt(token);
    exp = typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  } catch {
    exp = undefined;
  }
  if (exp === undefined) return now + UNKNOWN_EXPIRY_REUSE_MS;
  const life = exp - now;
  return now + Math.max(0, Math.max(life - REFRESH_MARGIN_MS, life / 2));
}
