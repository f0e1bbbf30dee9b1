// The e2e/schedules suite against `dts serve --store postgres` (occurrences, catch-up after a SIGKILL restart, pause and delete).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/schedules.test"));
