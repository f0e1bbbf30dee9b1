// `dts serve --speculative-dispatch on|off` and DTS_SPECULATIVE_DISPATCH: on by default, the flag
// winning over the environment, anything else refused with a message naming the flag.
import { schedulerSettings } from "../../src/cli/serve-settings";

const speculative = (values: Record<string, string>, env: NodeJS.ProcessEnv = {}) => schedulerSettings(values, env).options.speculativeDispatch;

test("on by default; off by the flag or the environment, the flag winning", () => {
  expect(speculative({})).toBe(true);
  expect(speculative({}, { DTS_SPECULATIVE_DISPATCH: "off" })).toBe(false);
  expect(speculative({ "speculative-dispatch": "on" }, { DTS_SPECULATIVE_DISPATCH: "off" })).toBe(true);
  expect(speculative({ "speculative-dispatch": "off" })).toBe(false);
});

test("refuses anything but on or off", () => {
  expect(() => speculative({ "speculative-dispatch": "yes" })).toThrow("--speculative-dispatch must be on or off, got 'yes'");
  expect(() => speculative({}, { DTS_SPECULATIVE_DISPATCH: "true" })).toThrow("got 'true'");
});
