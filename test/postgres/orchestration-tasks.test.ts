// The e2e/orchestration-tasks suite against `dts serve --store postgres` (activities, sub-orchestrations, timers, retries and fan-out).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/orchestration-tasks.test"));
