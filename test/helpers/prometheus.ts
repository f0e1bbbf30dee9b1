// /metrics read as Prometheus reads it: the text format parsed by a parser of that format.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const parsePrometheus: (text: string) => Family[] = require("parse-prometheus-text-format");

export interface Family {
  name: string;
  type: string;
  /** value for counters and gauges; count, sum (and buckets) for histograms. */
  metrics: { value?: string; count?: string; sum?: string; labels?: Record<string, string> }[];
}

/** The text format's families by name. */
export function families(text: string): Map<string, Family> {
  return new Map(parsePrometheus(text).map((f) => [f.name, f]));
}

/** GET /metrics on the dashboard port, by metric family name; checks the status and the content type. */
export async function scrape(dashboardPort: number | undefined): Promise<Map<string, Family>> {
  const r = await fetch(`http://localhost:${dashboardPort}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return families(await r.text());
}

/** A field (value, count or sum) added up over every series of the family; 0 without it. */
export const total = (f: Family | undefined, field: "value" | "count" | "sum" = "value") =>
  (f?.metrics ?? []).reduce((n, m) => n + Number(m[field] ?? 0), 0);

/** The value of the family's series with these labels (undefined: no such series). */
export const value = (f: Family | undefined, labels: Record<string, string>) =>
  f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
