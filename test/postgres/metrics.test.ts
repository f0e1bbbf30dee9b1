// The dashboard/metrics suite against `dts serve --store postgres` (work items, commits and their sync time, gRPC calls).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../dashboard/metrics.test"));
