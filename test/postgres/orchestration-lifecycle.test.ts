// The e2e/orchestration-lifecycle suite against `dts serve --store postgres` (continue-as-new, suspend and resume, termination, events, restart and rewind).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/orchestration-lifecycle.test"));
