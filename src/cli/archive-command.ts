// `dts export` and `dts import`: instances with their full histories as JSON Lines, through the
// dashboard port's JSON API (GET …/export streams them, POST …/import takes them as a stream), so
// neither side holds a whole hub in memory. Progress goes to stderr, the data to a file or stdout.
import * as fs from "fs";
import { createInterface } from "readline";
import { PassThrough, Readable, Transform, Writable } from "stream";
import { pipeline } from "stream/promises";
import { parseArgs } from "util";
import * as zlib from "zlib";
import { dashboardRequest, DashboardApiError, DASHBOARD_TARGET_OPTIONS, DASHBOARD_TARGET_USAGE, dashboardTarget } from "./dashboard-api";
import { UsageError } from "./flags";

export const EXPORT_USAGE = `Usage: dts export [options]

Writes a task hub's orchestration instances, each with its full history, as JSON Lines (one
instance per line, in instance id order). Progress and where to resume go to stderr.

Options:
${DASHBOARD_TARGET_USAGE}  --status <a,b>         only these statuses (Completed, Failed, Terminated, Canceled, Running, ...)
  --created-from <time>  only instances created at or after this time (ISO 8601)
  --created-to <time>    only instances created at or before this time
  --after <instanceId>   resume: only instances whose id sorts after this one (appends to --to's file)
  --to <file|->          where to write (default -: stdout)
  --gzip                 gzip what is written
  -h, --help             show this help
`;

export const IMPORT_USAGE = `Usage: dts import <file|-> [options]

Loads instances written by dts export (gzipped or not) into a task hub, in batches of 100, each
batch one commit. Only finished instances (Completed, Failed, Canceled, Terminated) are imported.
An instance id the hub already has stops the import (what came before stays imported) unless:

Options:
${DASHBOARD_TARGET_USAGE}  --skip-existing        leave instances the hub already has as they are
  --overwrite            replace them (finished ones only)
  -h, --help             show this help
`;

/** Prints a progress line on stderr at most once a second. */
function progress(verb: string): (line: () => string) => void {
  let last = Date.now();
  return (line) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    process.stderr.write(`dts ${verb}: ${line()}\n`);
  };
}

export async function exportCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      ...DASHBOARD_TARGET_OPTIONS, status: { type: "string" }, "created-from": { type: "string" }, "created-to": { type: "string" },
      after: { type: "string" }, to: { type: "string" }, gzip: { type: "boolean" }, help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(EXPORT_USAGE);
  const target = dashboardTarget(values, env);
  const query = new URLSearchParams();
  if (values.status) query.set("status", values.status);
  for (const [flag, param] of [["created-from", "createdFrom"], ["created-to", "createdTo"]] as const) {
    const v = values[flag];
    if (v === undefined) continue;
    if (Number.isNaN(Date.parse(v))) throw new UsageError(`--${flag} must be a date and time such as 2026-12-01T00:00:00Z, got '${v}'`);
    query.set(param, new Date(v).toISOString());
  }
  if (values.after) query.set("after", values.after);
  const to = values.to ?? "-";
  if (to !== "-" && fs.existsSync(to) && !values.after) throw new UsageError(`${to} exists: remove it, or pass --after <instanceId> to resume an export into it`);

  let count = 0;
  let lastId = values.after;
  const tick = progress("export");
  try {
    const res = await dashboardRequest(target, "GET", `export?${query}`);
    const out: Writable = to === "-" ? process.stdout : fs.createWriteStream(to, { flags: values.after ? "a" : "wx" });
    const lines = createInterface({ input: Readable.fromWeb(res.body as import("stream/web").ReadableStream), crlfDelay: Infinity });
    const counted = Readable.from((async function* () {
      for await (const line of lines) {
        if (!line) continue;
        lastId = (JSON.parse(line) as { instance: { instanceId: string } }).instance.instanceId;
        count++;
        tick(() => `${count} instance(s), last ${lastId}`);
        yield `${line}\n`;
      }
    })());
    await (values.gzip ? pipeline(counted, zlib.createGzip(), out) : pipeline(counted, out));
  } catch (err) {
    const resume = lastId ? `; resume with --after '${lastId}'${to === "-" ? "" : ` --to ${to}`}` : "";
    if (err instanceof DashboardApiError) throw Object.assign(err, { message: `${err.message}${resume}` });
    throw new DashboardApiError(0, `the export stopped after ${count} instance(s) (${(err as Error).message})${resume}`);
  }
  process.stderr.write(`dts export: ${count} instance(s) from task hub '${target.hub}'${to === "-" ? "" : ` to ${to}`}${lastId ? `; last ${lastId} (resume after it with --after)` : ""}\n`);
}

interface ImportAnswer {
  imported: number;
  skipped: number;
  overwritten: number;
  lastInstanceId: string | null;
}

export async function importCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { ...DASHBOARD_TARGET_OPTIONS, "skip-existing": { type: "boolean" }, overwrite: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return void process.stdout.write(IMPORT_USAGE);
  if (positionals.length !== 1) throw new UsageError("dts import takes one file (or - for stdin): dts import <file> [--hub <hub>]");
  if (values["skip-existing"] && values.overwrite) throw new UsageError("give --skip-existing or --overwrite, not both");
  const file = positionals[0];
  if (file !== "-" && !fs.existsSync(file)) throw new UsageError(`${file} does not exist`);
  const target = dashboardTarget(values, env);
  const onConflict = values.overwrite ? "overwrite" : values["skip-existing"] ? "skip" : "fail";
  let sent = 0;
  const tick = progress("import");
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      tick(() => `${(sent / 1048576).toFixed(1)} MiB sent`);
      done(null, chunk);
    },
  });
  // stdin is taken as it is (pipe it through gunzip -c when it is gzipped).
  const stages: (Readable | Transform)[] = file === "-" ? [process.stdin] : isGzip(file) ? [fs.createReadStream(file), zlib.createGunzip()] : [fs.createReadStream(file)];
  const body = new PassThrough();
  pipeline([...stages, counter, body]).catch((err: Error) => body.destroy(err));
  let answer: ImportAnswer;
  try {
    const res = await dashboardRequest(target, "POST", `import?onConflict=${onConflict}`, { stream: body, type: "application/x-ndjson" });
    answer = (await res.json()) as ImportAnswer;
  } catch (err) {
    if (err instanceof DashboardApiError && err.status === 409 && onConflict === "fail") {
      throw Object.assign(err, { message: `${err.message}; run again with --skip-existing to import the rest, or --overwrite` });
    }
    throw err;
  }
  process.stdout.write(`Imported ${answer.imported} instance(s) into task hub '${target.hub}'` +
    `${answer.overwritten ? `, overwrote ${answer.overwritten}` : ""}${answer.skipped ? `, skipped ${answer.skipped} already there` : ""}.\n`);
}

/** Whether the file starts with gzip's magic bytes. */
function isGzip(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(2);
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}
