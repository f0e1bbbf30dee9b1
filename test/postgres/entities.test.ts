// The e2e/entities suite against `dts serve --store postgres` (entities: signals, calls, locks and critical sections).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/entities.test"));
