// Tests run on the compiled output (npm test builds first), so jest needs no TypeScript transform.
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/dist/test"],
  testMatch: ["**/*.test.js"],
  testTimeout: 60000,
  maxWorkers: 2,
};
