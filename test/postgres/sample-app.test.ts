// The functions/sample-app suite against `dts serve --store postgres` (the Functions path: dts func start on the repository's sample app).
import { runOnPostgres } from "../helpers/test-store";

runOnPostgres(() => require("../functions/sample-app.test"));
