// The dashboard's schedules page in headless Chromium against the real `dts serve`, with the official
// SDK's worker running what a schedule starts: a refused form keeps what was typed and creates
// nothing; a created schedule shows its next and last runs and links to its instances; pause.
import { OrchestrationContext, TaskHubGrpcClient, TaskHubGrpcWorker } from "@microsoft/durabletask-js";
import { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { client, worker } from "../helpers/sdk";

let dts: DtsProcess;
let c: TaskHubGrpcClient;
let w: TaskHubGrpcWorker;
let browser: Browser;
let page: Page;
let base: string;

beforeAll(async () => {
  dts = await startDts(["--store", "sqlite"]);
  base = `http://localhost:${dts.dashboardPort}`;
  c = client(dts.address);
  w = worker(dts.address);
  // eslint-disable-next-line require-yield
  w.addNamedOrchestrator("report", async function* (_ctx: OrchestrationContext, input: unknown): AsyncGenerator<never, unknown, unknown> {
    return input;
  });
  await w.start();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await w?.stop();
  await c?.stop();
  await dts?.stop();
});

const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? "";

test("create a schedule (a bad cron expression refused first, nothing created), see its runs and instances, pause it", async () => {
  await page.goto(`${base}/hubs/default/orchestrations`);
  await page.click("header nav >> text=Schedules");
  expect(await text("tbody")).toMatch(/No schedule\./);

  await page.fill("input[name=scheduleId]", "hourly-report");
  await page.fill("input[name=orchestrationName]", "report");
  await page.fill("input[name=cron]", "0 99 * * * *");
  await page.fill("textarea[name=input]", `{"team": "billing"}`);
  await page.click("button:has-text('Create schedule')");
  expect(await text("p.error")).toMatch(/cron: The schedule expression '0 99 \* \* \* \*' was not recognized as a valid cron expression.*; nothing was created/);
  expect(await text("tbody")).toMatch(/No schedule\./);
  expect(await page.inputValue("input[name=scheduleId]")).toBe("hourly-report");
  expect(await page.inputValue("textarea[name=input]")).toBe(`{"team": "billing"}`);

  await page.fill("input[name=cron]", "");
  await page.fill("input[name=every]", "1s");
  await page.click("button:has-text('Create schedule')");
  expect(await text("p.notice")).toBe("Schedule created.");
  const row = page.locator("tr[data-schedule='hourly-report']");
  expect(await row.locator("td.state").textContent()).toBe("active");
  expect(await row.locator("td.next time").getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);

  // The last run appears once an occurrence has started: the page is reloaded until it does.
  const last = await pollUntil(async () => {
    await page.reload();
    return (await row.locator("a[href*='/orchestrations/hourly-report%40']").count()) > 0 ? row.locator("a[href*='/orchestrations/hourly-report%40']").first().textContent() : undefined;
  }, (v) => !!v, "the schedule's last instance on the page");
  expect(last).toMatch(/^hourly-report@\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  const out = await c.waitForOrchestrationCompletion(last!, true, 30);
  expect(JSON.parse(out!.serializedOutput!)).toEqual({ team: "billing" });

  await row.locator("a:has-text('All instances')").click();
  expect(page.url()).toContain("prefix=hourly-report%40");
  const ids = await page.locator("tbody td.id a").allTextContents();
  expect(ids.length).toBeGreaterThanOrEqual(1);
  expect(ids.every((id) => id.startsWith("hourly-report@"))).toBe(true);

  await page.goBack();
  await page.locator("tr[data-schedule='hourly-report'] button:has-text('Pause')").click();
  expect(await text("p.notice")).toBe("Paused.");
  expect(await row.locator("td.state").textContent()).toBe("paused");
  expect(await row.locator("button:has-text('Resume')").count()).toBe(1);
  await page.screenshot({ path: `${process.env.DTS_SCREENSHOT_DIR ?? "/tmp"}/dts-schedules.png`, fullPage: true });
}, 60_000);
