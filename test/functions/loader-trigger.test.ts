// A durable trigger handed to the loader as an object reaches the hooks and the function as that
// object, and its JSON text is never made; a trigger given only as text is parsed as before.
import { execFileSync } from "child_process";
import * as path from "path";

test("a trigger given as an object reaches hooks and handler as is; one given as text is parsed", () => {
  const out = execFileSync(process.execPath, [path.join(__dirname, "fixtures/invoke-trigger.js")], { encoding: "utf8", timeout: 60_000 });
  const result = JSON.parse(out.trim().split("\n").pop()!);
  expect(result.sameObject).toBe(true);
  expect(result.textMade).toBe(false);
  expect(JSON.parse(result.asObject.json)).toEqual({ answer: "object", functionName: "probe", hookSawIt: true });
  expect(JSON.parse(result.asText.json)).toEqual({ answer: "text", functionName: "probe", hookSawIt: false });
});
