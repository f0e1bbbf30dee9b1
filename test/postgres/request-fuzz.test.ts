// The e2e/request-fuzz suite against `dts serve --store postgres` (random and mangled requests and answers reach the store's SQL too).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/request-fuzz.test"));
