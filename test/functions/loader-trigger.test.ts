// A durable trigger handed to the loader as an object reaches the hooks and the function as that
// object, and its JSON text is never made. Once the loader knows the app's context class, such a
// function is called without @azure/functions' invocation model, and what it sees and returns is
// the same as through the model. A trigger given only as text is parsed as before.
import { execFileSync } from "child_process";
import * as path from "path";

test("a trigger given as an object reaches hooks and handler as is, through the library's model or directly alike; one given as text is parsed", () => {
  const out = execFileSync(process.execPath, [path.join(__dirname, "fixtures/invoke-trigger.js")], { encoding: "utf8", timeout: 60_000 });
  const result = JSON.parse(out.trim().split("\n").pop()!);
  const expected = { answer: "object", functionName: "probe", hookSawIt: true, instanceId: "123", triggerType: "orchestrationTrigger", invocationId: "string", isContext: true };
  for (const run of [result.throughModel, result.direct]) {
    expect(run.sameObject).toBe(true);
    expect(JSON.parse(run.returned.json)).toEqual(expected);
  }
  expect(result.direct.returned).toEqual(result.throughModel.returned);
  expect(result.textMade).toBe(false);
  expect(JSON.parse(result.asText.json)).toEqual({ ...expected, answer: "text", instanceId: undefined });
  // The function's own log line, formatted the same way on both paths.
  expect(result.logs.filter((l: string) => l.includes("probe ran for object"))).toEqual(["information user probe ran for object", "information user probe ran for object"]);
});
