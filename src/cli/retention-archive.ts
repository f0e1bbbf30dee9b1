// --retention-export-dir: what retention purges is first appended to
// <dir>/<hub>/<YYYY-MM-DD>.jsonl (UTC day of the purge), in the format dts export writes and
// dts import reads, and synced to disk; only then is it purged. A write that fails purges nothing.
import * as fs from "fs";
import * as path from "path";
import { ArchivedInstance, archiveLine } from "../core/instance-archive";

export function retentionArchive(dir: string, now: () => number = Date.now): (hub: string, items: ArchivedInstance[]) => Promise<void> {
  return async (hub, items) => {
    if (items.length === 0) return;
    // Hub names are case-insensitive and kept lower-cased; encoded so no name can leave the directory.
    const hubDir = path.join(dir, encodeURIComponent(hub));
    await fs.promises.mkdir(hubDir, { recursive: true, mode: 0o700 });
    const file = path.join(hubDir, `${new Date(now()).toISOString().slice(0, 10)}.jsonl`);
    const handle = await fs.promises.open(file, "a", 0o600);
    try {
      await handle.writeFile(items.map((i) => archiveLine(i.instance, i.history) + "\n").join(""));
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
}
