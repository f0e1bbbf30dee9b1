// Finds a module of the library the app itself resolves (its own durable-functions), so the host can
// adapt that copy, not one of its own.
import * as path from "path";

/** The export `name` of `request` as resolved from `appDir`; undefined when absent or laid out otherwise. */
export function appLibraryExport<T>(appDir: string, request: string, name: string): T | undefined {
  let file: string;
  try {
    file = require.resolve(request, { paths: [path.resolve(appDir)] });
  } catch {
    return undefined;
  }
  return (require(file) as Record<string, T | undefined>)[name];
}
