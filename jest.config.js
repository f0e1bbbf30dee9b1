// Tests run on the compiled output (npm test builds first), so jest needs no TypeScript transform.
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  // Unpacks the vendored durable-functions 4 for the df4 sample app (test/helpers/df4-app.ts).
  globalSetup: "<rootDir>/dist/test/helpers/global-setup.js",
  testTimeout: 60000,
  maxWorkers: 2,
};
