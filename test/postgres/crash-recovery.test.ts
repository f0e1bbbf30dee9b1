// The e2e/crash-recovery suite against `dts serve --store postgres` (kill -9 and restart on the same database: nothing acknowledged is lost).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/crash-recovery.test"));
