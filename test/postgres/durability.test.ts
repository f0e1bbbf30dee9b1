// The e2e/durability suite against `dts serve --store postgres` (what a crash keeps: waiting instances, timers and events).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/durability.test"));
