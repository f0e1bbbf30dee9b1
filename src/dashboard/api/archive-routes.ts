// Export and import (…/taskhubs/export, …/taskhubs/import): instances with their full histories as
// JSON Lines (core/instance-archive.ts), streamed both ways so memory stays flat whatever the size.
// An export pages through the hub by instance id and can resume after any id; an import commits
// every batch of lines as one change and answers with what it did, also when it stops part-way.
import { createInterface } from "readline";
import { ArchivedInstance, parseArchiveLine, archiveLine } from "../../core/instance-archive";
import { InstanceFilter } from "../../store/store";
import { HttpError, sendJson, statusOf } from "../http";
import { HubAccess } from "../hub-access";
import { ApiCall, ApiRoute } from "./api-call";
import { parseStatus } from "./orchestration-query";
import { optTime } from "./request-body";

const EXPORT_PAGE = 100;
const IMPORT_BATCH = 100;
/** A batch is committed early once its lines pass this many characters. */
const IMPORT_BATCH_CHARS = 8 * 1024 * 1024;

function exportFilter(q: URLSearchParams): InstanceFilter {
  const filter: InstanceFilter = {};
  const status = q.get("status");
  if (status) filter.statuses = status.split(",").filter((s) => s.trim()).map(parseStatus);
  const from = optTime(q.get("createdFrom") ?? undefined, "createdFrom");
  const to = optTime(q.get("createdTo") ?? undefined, "createdTo");
  if (from !== undefined) filter.createdFrom = from;
  if (to !== undefined) filter.createdTo = to;
  return filter;
}

/** Resolves once the response can take more, or is gone (a client that went away never drains it). */
function drained(c: ApiCall): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      c.res.off("drain", done);
      c.res.off("close", done);
      resolve();
    };
    c.res.on("drain", done);
    c.res.on("close", done);
  });
}

async function exportInstances(a: HubAccess, c: ApiCall): Promise<void> {
  const filter = exportFilter(c.url.searchParams);
  let after = c.url.searchParams.get("after") || undefined;
  c.res.writeHead(200, { "Content-Type": "application/x-ndjson; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
  for (;;) {
    const page = await a.exportPage(c.hub, filter, after, EXPORT_PAGE);
    for (const { instance, history } of page.items) {
      // Wait for the client to take what was written: a slow reader never makes the server buffer the hub.
      if (!c.res.write(`${archiveLine(instance, history)}\n`)) await drained(c);
      if (c.res.destroyed) return;
    }
    if (page.last === undefined) break;
    after = page.last;
    // Between pages, the engine's own work goes first.
    await new Promise((resolve) => setImmediate(resolve));
  }
  c.res.end();
}

async function importInstances(a: HubAccess, c: ApiCall): Promise<void> {
  const mode = c.url.searchParams.get("onConflict") ?? "fail";
  if (mode !== "fail" && mode !== "skip" && mode !== "overwrite") throw new HttpError(400, `onConflict must be fail, skip or overwrite, not '${mode}'`);
  const done = { imported: 0, skipped: 0, overwritten: 0, lines: 0, lastInstanceId: null as string | null };
  let batch: ArchivedInstance[] = [];
  let chars = 0;
  const flush = async () => {
    if (!batch.length) return;
    const n = await a.importInstances(c.hub, batch, mode);
    done.imported += n.imported;
    done.skipped += n.skipped;
    done.overwritten += n.overwritten;
    done.lastInstanceId = batch[batch.length - 1].instance.instanceId;
    batch = [];
    chars = 0;
  };
  try {
    for await (const line of createInterface({ input: c.req, crlfDelay: Infinity })) {
      done.lines++;
      if (!line.trim()) continue;
      batch.push(parseArchiveLine(line, `line ${done.lines}`));
      chars += line.length;
      if (batch.length >= IMPORT_BATCH || chars >= IMPORT_BATCH_CHARS) await flush();
    }
    await flush();
  } catch (err) {
    const status = statusOf(err);
    if (status === 500) throw err;
    // What was committed before the refusal stays: the answer says how far it got.
    c.req.resume();
    sendJson(c.res, status, { error: `${(err as Error).message} (${done.imported + done.overwritten} instance(s) were imported before this)`, status, ...done });
    return;
  }
  sendJson(c.res, 200, done);
}

export const ARCHIVE_ROUTES: ApiRoute[] = [
  { method: "GET", path: "export", access: "read", handle: exportInstances },
  { method: "POST", path: "import", access: "write", handle: importInstances },
];
