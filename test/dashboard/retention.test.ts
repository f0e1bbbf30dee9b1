// A hub's retention on the dashboard: the Retention page in headless Chromium (periods in force,
// the form that sets the hub's own policy, a refused value shown with the form), and the JSON API
// routes (GET/PUT/DELETE …/taskhubs/retention) with their refusals, against a real dts serve.
import { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser";
import { DtsProcess, startDts } from "../helpers/dts-process";

let dts: DtsProcess;
let browser: Browser;
let page: Page;
let base: string;

beforeAll(async () => {
  dts = await startDts(["--store", "memory", "--hubs", "default,other", "--retention-days", "30", "--retention-failed-days", "90"]);
  base = `http://localhost:${dts.dashboardPort}`;
  browser = await launchBrowser();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await dts?.stop();
});

/** Each row of the periods table as "status | kept | set by". */
const cells = async () => (await page.locator("#retention-periods tbody tr").allInnerTexts()).map((t) => t.trim().split("\t").join(" | "));
const json = async (r: Response) => (await r.json()) as Record<string, any>;

const api = (method: string, body?: unknown, headers: Record<string, string> = {}, hub = "other") =>
  fetch(`${base}/api/v1/taskhubs/retention`, { method, headers: { "x-taskhub": hub, "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });

test("the Retention page shows each status's period and who set it; its form sets the hub's own policy, refuses a bad value, and clears it", async () => {
  await page.goto(`${base}/hubs/default/orchestrations`);
  await page.click("nav >> text=Retention");
  expect(await cells()).toEqual([
    "Completed | 30 days | the scheduler (dts serve)", "Failed | 90 days | the scheduler (dts serve)",
    "Canceled | 30 days | the scheduler (dts serve)", "Terminated | 30 days | the scheduler (dts serve)",
  ]);

  await page.fill("input[name=days]", "7");
  await page.fill("input[name=terminatedDays]", "0");
  await page.click("button:has-text('Save')");
  expect(await page.locator(".notice").textContent()).toMatch(/Saved/);
  expect(await cells()).toEqual(["Completed | 7 days | this task hub", "Failed | 7 days | this task hub", "Canceled | 7 days | this task hub", "Terminated | kept forever | this task hub"]);
  expect(await page.inputValue("input[name=days]")).toBe("7");

  // The browser's own check would stop a negative number; the server must refuse one that gets past it.
  await page.locator("input[name=days]").evaluate((e) => e.removeAttribute("min"));
  await page.fill("input[name=days]", "-2");
  await page.click("button:has-text('Save')");
  expect(await page.locator(".error").textContent()).toMatch(/days must be a whole number of days from 0/);
  expect(await page.inputValue("input[name=days]")).toBe("-2");
  const saved = await json(await api("GET", undefined, {}, "default"));
  expect(saved.policy).toEqual({ days: 7, terminatedDays: 0 });

  for (const f of ["days", "terminatedDays"]) await page.fill(`input[name=${f}]`, "");
  await page.click("button:has-text('Save')");
  expect(await cells()).toContain("Failed | 90 days | the scheduler (dts serve)");
  expect((await json(await api("GET", undefined, {}, "default"))).policy).toBeNull();
});

test("the JSON API: GET, PUT and DELETE retention; unknown fields, empty policies, bad values and cross-site writes are refused", async () => {
  let r = await api("PUT", { completedDays: 3, canceledDays: 0 });
  expect(r.status).toBe(200);
  expect(await json(r)).toEqual({
    taskHub: "other", policy: { completedDays: 3, canceledDays: 0 }, schedulerPolicy: { days: 30, failedDays: 90 },
    periods: [{ status: "Completed", days: 3, from: "hub" }, { status: "Failed", days: 90, from: "scheduler" }, { status: "Canceled", days: 0, from: "hub" }, { status: "Terminated", days: 30, from: "scheduler" }],
  });
  const refused: [unknown, Record<string, string>, number, RegExp][] = [
    [{ weeks: 2 }, {}, 400, /Unknown field\(s\) weeks/],
    [{}, {}, 400, /Give at least one period/],
    [{ days: "7" }, {}, 400, /days must be a whole number of days/],
    [{ days: 1 }, { origin: "https://evil.example" }, 403, /must come from the dashboard's own pages/],
  ];
  for (const [body, headers, status, message] of refused) {
    r = await api("PUT", body, headers);
    expect([r.status, (await json(r)).error]).toEqual([status, expect.stringMatching(message)]);
  }
  expect((await json(await api("GET"))).policy).toEqual({ completedDays: 3, canceledDays: 0 });
  r = await api("POST", { days: 1 });
  expect([r.status, r.headers.get("allow")]).toEqual([405, "GET, PUT, DELETE"]);
  r = await api("GET", undefined, {}, "nope");
  expect(r.status).toBe(404);
  r = await api("DELETE");
  expect((await json(r)).policy).toBeNull();
});
