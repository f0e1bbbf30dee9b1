// jose is an ES module. TypeScript's CommonJS output turns import() into require(), which loads ES
// modules only from Node 20.19 on; a real dynamic import works on every Node this package supports,
// and loads jose only when auth is on.
import type * as Jose from "jose";

export type { Jose };

const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;
let loaded: Promise<typeof Jose> | undefined;

export function loadJose(): Promise<typeof Jose> {
  loaded ??= importModule("jose") as Promise<typeof Jose>;
  return loaded;
}
