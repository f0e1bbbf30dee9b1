// /metrics read as Prometheus reads it: the text format parsed by a parser of that format.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const parsePrometheus: (text: string) => Family[] = require("parse-prometheus-text-format");

export interface Family {
  name: string;
  type: string;
  /** value for counters and gauges; count (and buckets) for histograms. */
  metrics: { value?: string; count?: string; labels?: Record<string, string> }[];
}

/** GET /metrics on the dashboard port, by metric family name; checks the status and the content type. */
export async function scrape(dashboardPort: number | undefined): Promise<Map<string, Family>> {
  const r = await fetch(`http://localhost:${dashboardPort}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Map(parsePrometheus(await r.text()).map((f) => [f.name, f]));
}

/** The value of the family's series with these labels (undefined: no such series). */
export const value = (f: Family | undefined, labels: Record<string, string>) =>
  f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
