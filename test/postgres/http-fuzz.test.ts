// The dashboard/http-fuzz suite against `dts serve --store postgres` (random requests, imports of changed archive lines among them, reach the store's SQL too).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../dashboard/http-fuzz.test"));
