// Tests run on the compiled output (npm test builds first), so jest needs no TypeScript transform.
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  // Unpacks the vendored durable-functions 4 for the df4 sample app (test/helpers/df4-app.ts).
  globalSetup: "<rootDir>/dist/test/helpers/global-setup.js",
  testTimeout: 60000,
  maxWorkers: 2,
  // A worker that keeps more than this after a test file is replaced before the next. Workers
  // otherwise grow (most files' module graphs stay reachable, jest --detectLeaks) to 450+ MB of
  // heap, and a worker that large takes over jest's 500 ms to free it when it exits at the end:
  // jest then kills it and warns "A worker process has failed to exit gracefully".
  workerIdleMemoryLimit: "200MB",
};
