// The e2e/management suite against `dts serve --store postgres` (instance management: reads, queries, purges and history).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/management.test"));
