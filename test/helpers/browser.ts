// Headless Chromium for the dashboard's tests: Debian's chromium package driven by playwright-core
// (no browser download). CHROMIUM_PATH overrides where the browser is.
import * as fs from "fs";
import { Browser, chromium } from "playwright-core";

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`No Chromium found (tried ${candidates.join(", ")}): install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  return found;
}

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}
