// `dts scale status` as a short table for people (the JSON form is the ScaleStatus itself).
import { KINDS } from "./metrics";
import { ScaleStatus } from "./monitor";

export function formatStatus(s: ScaleStatus): string {
  const lines = [`Task hub '${s.taskHub}' on ${s.endpoint} at ${s.timestamp}`];
  if (s.state !== "ok" || !s.metrics || !s.workersPerKind) {
    lines.push(`ERROR: ${s.error}`);
    return lines.join("\n") + "\n";
  }
  const rows = [["kind", "pending", "active", "oldest (s)", "limit", "workers"]];
  for (const k of KINDS) {
    const m = s.metrics[k];
    rows.push([k, m.pending, m.active, m.oldestAgeSeconds, s.limits[k], s.workersPerKind[k]].map(String));
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) lines.push(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ").trimEnd());
  lines.push(`Connected workers: ${s.metrics.connectedWorkers}`);
  lines.push(`Target workers:    ${s.targetWorkers}`);
  lines.push(`Vote:              ${s.vote} (${s.voteReason}; ${s.samples} of ${s.windowSize} samples)`);
  return lines.join("\n") + "\n";
}
