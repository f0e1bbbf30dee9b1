// Prometheus metrics on the dashboard port (/metrics): per hub, what GetMetrics and the dashboard
// show (work items pending and active per kind, the oldest pending item's age, connected workers,
// instances in memory, instances per status), read from the engine at scrape time, plus the
// process's own figures (CPU, memory, event-loop lag) from prom-client.
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { statusName } from "../core/model";
import { HubMetrics } from "../scheduler/hub-metrics";
import { HubAccess } from "./hub-access";

const KINDS = ["orchestrations", "activities", "entities"] as const;

/** Per-hub metrics read once per scrape: the gauges below all read this instead of walking each hub five times. */
function perScrape(access: HubAccess): () => Map<string, HubMetrics> {
  let taken = 0;
  let snapshot = new Map<string, HubMetrics>();
  return () => {
    // One scrape collects every gauge within a few milliseconds; a later scrape reads afresh.
    if (Date.now() - taken > 200) {
      snapshot = new Map(access.hubNames().map((hub) => [hub, access.metrics(hub)]));
      taken = Date.now();
    }
    return snapshot;
  };
}

export function metricsRegistry(access: HubAccess): Registry {
  const registry = new Registry();
  const hubs = perScrape(access);
  collectDefaultMetrics({ register: registry, prefix: "dts_" });
  const gauge = (name: string, help: string, labelNames: string[], read: (g: Gauge) => void | Promise<void>) =>
    new Gauge({
      name, help, labelNames, registers: [registry],
      async collect() {
        this.reset();
        await read(this);
      },
    });
  const perKind = (name: string, help: string, field: "pending" | "active" | "oldestAgeSeconds" | "waitingForWorker") =>
    gauge(name, help, ["hub", "kind"], (g) => {
      for (const [hub, m] of hubs()) for (const kind of KINDS) g.set({ hub, kind }, m[kind][field]);
    });
  perKind("dts_work_items_pending", "Work items ready for a worker and not yet given to one", "pending");
  perKind("dts_work_items_active", "Work items a worker holds now", "active");
  perKind("dts_work_items_oldest_pending_seconds", "Age of the oldest pending work item", "oldestAgeSeconds");
  perKind("dts_work_items_waiting_for_worker", "Pending work items no connected worker's work-item filter accepts", "waitingForWorker");
  gauge("dts_workers_connected", "Open GetWorkItems streams", ["hub"], (g) => {
    for (const [hub, m] of hubs()) g.set({ hub }, m.workers);
  });
  gauge("dts_instances_in_memory", "Instances (orchestrations and entities) held in memory because they have work", ["hub"], (g) => {
    for (const [hub, m] of hubs()) g.set({ hub }, m.hotInstances);
  });
  gauge("dts_orchestrations", "Orchestration instances stored, per runtime status", ["hub", "status"], async (g) => {
    for (const hub of access.hubNames()) for (const [status, n] of await access.counts(hub, {})) g.set({ hub, status: statusName(status) }, n);
  });
  return registry;
}
