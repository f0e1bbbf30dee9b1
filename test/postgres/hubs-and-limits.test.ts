// The e2e/hubs-and-limits suite against `dts serve --store postgres` (task hubs, payload and id limits, generated ids).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../e2e/hubs-and-limits.test"));
