// The durable-functions 4 sample app (test/df4-app) and its one dependency the registry does not
// serve: durable-functions 4.0.0-beta.1, vendored in ../shared/vendor. Its package is unpacked into
// the app's node_modules (offline, idempotent); everything else it needs (@azure/functions,
// @microsoft/durabletask-js, @grpc/grpc-js) resolves from the repository's node_modules, which
// `npm ci` installs. The tests' globalSetup and the bench's functions-v4 path call this.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "./func-process";

export const DF4_APP = path.join(REPO_ROOT, "test/df4-app");

/** The tarball the app's package.json names (a file: dependency relative to the app). */
function vendoredTarball(): { file: string; version: string } {
  const pkg = JSON.parse(fs.readFileSync(path.join(DF4_APP, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const spec = pkg.dependencies["durable-functions"];
  if (!spec?.startsWith("file:")) throw new Error(`test/df4-app/package.json: durable-functions should be a file: dependency on the vendored tarball, not ${spec}`);
  const file = path.resolve(DF4_APP, spec.slice("file:".length));
  const version = /durable-functions-(.+)\.tgz$/.exec(file)?.[1] ?? "";
  return { file, version };
}

/** Unpacks the vendored durable-functions into test/df4-app/node_modules unless that version is already there. */
export function ensureDf4App(): void {
  const { file, version } = vendoredTarball();
  const target = path.join(DF4_APP, "node_modules/durable-functions");
  try {
    if (JSON.parse(fs.readFileSync(path.join(target, "package.json"), "utf8")).version === version) return;
  } catch {
    // not unpacked yet
  }
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: the durable-functions 4 tests need the shared folder next to the repository (../shared/vendor)`);
  const staging = `${target}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const tar = spawnSync("tar", ["-xzf", file, "-C", staging, "--strip-components=1"], { encoding: "utf8" });
  if (tar.status !== 0) throw new Error(`unpacking ${file} failed: ${tar.stderr || tar.error?.message}`);
  // Renamed into place whole, so a concurrent or interrupted run never sees half a package.
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(staging, target);
}
