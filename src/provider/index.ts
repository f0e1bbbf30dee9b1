// The Functions backend provider adapter: what the local Functions host calls to run an app's
// durable functions against a Durable Task Scheduler (BackendService).
//
//   const config = loadProviderConfig(appDir);            // host.json + app settings
//   const worker = await startDurableWorker(app, config); // app: the host's FunctionApp
//   ...
//   await worker.stop();
export { loadProviderConfig, ProviderConfig, ProviderConfigError } from "./config";
export { parseConnectionString, SchedulerConnection, ConnectionStringError, AUTHENTICATION_TYPES } from "./connection-string";
export { startDurableWorker, DurableWorker, DurableWorkerOptions } from "./durable-worker";
export { tokenSourceFor, TokenSource, CredentialError } from "./credentials";
