// The dashboard in headless Chromium, driven as a person would use it, against the real `dts serve`
// with the official SDK's worker running orchestrations, an entity and what a schedule starts.
import { EntityInstanceId, OrchestrationContext, TaskHubGrpcClient, TaskHubGrpcWorker, whenAll, whenAny } from "@microsoft/durabletask-js";
import { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser";
import { DtsProcess, startDts } from "../helpers/dts-process";
import { pollUntil } from "../helpers/poll";
import { addSampleWork, client, completed, lockAndAdd, worker } from "../helpers/sdk";

let dts: DtsProcess;
let c: TaskHubGrpcClient;
let w: TaskHubGrpcWorker;
let browser: Browser;
let page: Page;
let base: string;
const dialogs: string[] = [];
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));

const CITIES = ["Tokyo", "Seattle", "London", "Cairo", "Lima"];

beforeAll(async () => {
  dts = await startDts(["--store", "memory"]);
  base = `http://localhost:${dts.dashboardPort}`;
  c = client(dts.address);
  w = worker(dts.address);
  addSampleWork(w);
  w.addOrchestrator(async function* helloCities(ctx: OrchestrationContext): any {
    const out: string[] = [];
    for (const city of CITIES) out.push(yield ctx.callActivity("sayHello", city));
    return out;
  });
  w.addActivity(async function blocker() {
    await released;
    return "released";
  });
  w.addOrchestrator(async function* blocked(ctx: OrchestrationContext): any {
    const timer = ctx.createTimer(3600);
    const work = ctx.callActivity("blocker");
    return yield whenAny([work, timer]);
  });
  w.addOrchestrator(async function* fanOut(ctx: OrchestrationContext, n: number): any {
    const results: string[] = yield whenAll(Array.from({ length: n }, (_, i) => ctx.callActivity("sayHello", `city-${i}`)));
    return results.length;
  });
  w.addOrchestrator(async function* holdLock(ctx: OrchestrationContext): any {
    const lock = yield ctx.entities.lockEntities(new EntityInstanceId("counter", "held"));
    yield ctx.waitForExternalEvent("Done");
    lock.release();
  });
  w.addOrchestrator(lockAndAdd);
  w.addOrchestrator(async function* report(_ctx: OrchestrationContext, input: unknown): any {
    return input;
  });
  await w.start();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
});

afterAll(async () => {
  await browser?.close();
  await w?.stop();
  await c?.stop();
  await dts?.stop();
});

const rowIds = () => page.locator("tbody td.id a").allTextContents();
const statusText = () => page.locator("h1 .status").textContent();

test("the home page lists the hub with its counts; the list filters and pages, with the state in the URL", async () => {
  const future = new Date(Date.now() + 3_600_000);
  for (let i = 0; i < 30; i++) await c.scheduleNewOrchestration("seeded", i, `seed-${String(i).padStart(2, "0")}`, future);
  await page.goto(`${base}/`);
  await expectText(page.locator("table"), /default/);
  await expectText(page.locator("table"), /Pending 30/);

  await page.click("table >> text=default");
  await page.fill("input[name=prefix]", "seed-");
  await page.click("button:has-text('Apply')");
  await expectText(page.locator(".pager").first(), /1–25 of 30/);
  expect(await rowIds()).toEqual(Array.from({ length: 25 }, (_, i) => `seed-${String(29 - i).padStart(2, "0")}`)); // newest first
  await page.locator(".pager").first().locator("a[rel=next]").click();
  await expectText(page.locator(".pager").first(), /26–30 of 30/);
  expect(page.url()).toContain("prefix=seed-");
  expect(page.url()).toContain("page=2");
  await page.reload();
  expect(await rowIds()).toEqual(["seed-04", "seed-03", "seed-02", "seed-01", "seed-00"]);

  // Status and name filters; 50 per page.
  await page.goto(`${base}/hubs/default/orchestrations?status=Pending&name=seeded&size=50`);
  expect(await rowIds()).toHaveLength(30);
  await page.goto(`${base}/hubs/default/orchestrations?status=Completed&name=seeded`);
  await expectText(page.locator("tbody"), /No orchestration matches/);
});

test("bulk terminate of everything a filter matches asks first, with the count, then terminates them all", async () => {
  await page.goto(`${base}/hubs/default/orchestrations?prefix=seed-&status=Pending`);
  await page.check("input[name=scope][value=all]");
  await page.click("button:has-text('Terminate…')");
  await expectText(page.locator("form.card p"), /Terminate 30 instance\(s\)\?/);
  await page.click("button:has-text('Yes, go ahead')");
  await expectText(page.locator(".notice"), /Terminated\. \(30\)/);
  await page.goto(`${base}/hubs/default/orchestrations?prefix=seed-&status=Terminated&size=50`);
  expect(await rowIds()).toHaveLength(30);

  // Purge two selected rows.
  await page.locator("input[name=id][value=seed-00]").check();
  await page.locator("input[name=id][value=seed-01]").check();
  await page.click("button:has-text('Purge…')");
  await expectText(page.locator("form.card p"), /Purge 2 instance\(s\)\?/);
  await page.click("button:has-text('Yes, go ahead')");
  await expectText(page.locator(".notice"), /Purged\. \(2\)/);
  expect(await c.getOrchestrationState("seed-00")).toBeUndefined();
  expect(await c.getOrchestrationState("seed-02")).toBeDefined();
});

test("a finished HelloCities shows its timeline, history and sequence, and its history downloads as JSON", async () => {
  const id = await c.scheduleNewOrchestration("helloCities");
  await completed(c, id);
  await page.goto(`${base}/hubs/default/orchestrations/${id}`);
  expect(await statusText()).toContain("Completed");
  expect(await page.locator("svg.timeline rect").count()).toBe(5);
  await page.locator("svg.timeline a").first().click({ force: true });
  await expectText(page.locator("details#span-0"), /sayHello/);
  expect(await page.locator("#output").textContent()).toContain("Hello, Lima!");

  await page.click(".tabs >> text=History");
  await page.waitForURL(/view=history/);
  const types = await page.locator("tbody tr td:nth-child(3)").allTextContents();
  expect(types.filter((t) => t === "TaskScheduled")).toHaveLength(5);
  expect(types.filter((t) => t === "TaskCompleted")).toHaveLength(5);
  expect(types).toContain("ExecutionCompleted");

  await page.click(".tabs >> text=Sequence");
  await expectText(page.locator("svg.timeline"), /Activity sayHello/);

  const download = await fetch(`${base}/hubs/default/orchestrations/${id}/history.json`);
  expect(download.headers.get("content-disposition")).toMatch(/attachment/);
  const body = (await download.json()) as { events: { eventType: string }[] };
  expect(body.events.filter((e) => e.eventType === "TaskCompleted")).toHaveLength(5);
});

test("a history of 10,000 events stays usable: the timeline and the history table come in pages", async () => {
  const id = await c.scheduleNewOrchestration("fanOut", 5000);
  await completed(c, id, 120);
  await page.goto(`${base}/hubs/default/orchestrations/${id}`);
  await expectText(page.locator("nav[aria-label='Timeline pages']"), /Steps 1–500 of 5000/);
  expect(await page.locator("svg.timeline rect").count()).toBe(500);
  await page.click("nav[aria-label='Timeline pages'] >> text=Next");
  await expectText(page.locator("nav[aria-label='Timeline pages']"), /Steps 501–1000 of 5000/);
  await page.goto(`${base}/hubs/default/orchestrations/${id}?view=history`);
  await expectText(page.locator("nav[aria-label='History pages']").first(), /Events 1–200 of 1\d{4}/);
  expect(await page.locator("tbody tr").count()).toBe(200);
});

test("the list filters by tag, and the tag filter is in the URL", async () => {
  await c.scheduleNewOrchestration("waitForApproval", undefined, { instanceId: "tagged-billing", tags: { team: "billing" } });
  await c.scheduleNewOrchestration("waitForApproval", undefined, { instanceId: "tagged-edge", tags: { team: "edge" } });
  await page.goto(`${base}/hubs/default/orchestrations`);
  await page.fill("input[name=tag]", "team=billing");
  await page.click("button:has-text('Apply')");
  // The click only starts the form's navigation; read the rows once the filtered page has loaded.
  await page.waitForURL(/tag=team%3Dbilling/);
  expect(await rowIds()).toEqual(["tagged-billing"]);
  expect(page.url()).toContain("tag=team%3Dbilling");
  await page.goto(`${base}/hubs/default/orchestrations?tag=nonsense`);
  await expectText(page.locator(".error"), /must be key=value/);
  await c.terminateOrchestration("tagged-billing", "done");
  await c.terminateOrchestration("tagged-edge", "done");
});

test("raising an event to a waiting instance completes it, and the page shows the new state", async () => {
  const id = await c.scheduleNewOrchestration("waitForApproval");
  await c.waitForOrchestrationStart(id);
  await page.goto(`${base}/hubs/default/orchestrations/${id}`);
  expect(await statusText()).toContain("Running");
  await page.fill("input[name=name]", "Approval");
  await page.fill("input[name=data]", "not json");
  await page.click("button:has-text('Raise event')");
  await expectText(page.locator(".error"), /not valid JSON/);
  await page.fill("input[name=name]", "Approval");
  await page.fill("input[name=data]", '{"by": "ops"}');
  await page.click("button:has-text('Raise event')");
  await expectText(page.locator(".notice"), /Event raised/);
  await completed(c, id);
  await page.reload();
  expect(await statusText()).toContain("Completed");
  expect(await page.locator("#output").textContent()).toContain('"by": "ops"');
});

test("suspend, resume, terminate and purge, each enabled only where the status allows it", async () => {
  const id = await c.scheduleNewOrchestration("waitForApproval");
  await c.waitForOrchestrationStart(id);
  await page.goto(`${base}/hubs/default/orchestrations/${id}`);
  const button = (name: string) => page.locator(`.actions button:has-text('${name}')`);
  expect(await button("Resume").isDisabled()).toBe(true);
  expect(await button("Purge").isDisabled()).toBe(true);
  expect(await button("Rewind").isDisabled()).toBe(true);

  await button("Suspend").click();
  await expectText(page.locator(".notice"), /Suspended/);
  expect(await statusText()).toContain("Suspended");
  expect(await button("Suspend").isDisabled()).toBe(true);

  await button("Resume").click();
  expect(await statusText()).toContain("Running");

  await page.fill("input[name=reason]", "not needed");
  await button("Terminate").click();
  expect(await statusText()).toContain("Terminated");
  expect(await button("Terminate").isDisabled()).toBe(true);
  expect(await button("Restart").isDisabled()).toBe(false);

  await button("Purge").click(); // the browser asks; the test's dialog handler accepts
  expect(dialogs.some((d) => d.includes(`Purge ${id}`))).toBe(true);
  await expectText(page.locator(".notice"), /Purged/);
  expect(await c.getOrchestrationState(id)).toBeUndefined();
});

test("a new orchestration: bad JSON is refused and creates nothing; good JSON starts it", async () => {
  await page.goto(`${base}/hubs/default/new`);
  await page.fill("input[name=name]", "helloCities");
  await page.fill("input[name=instanceId]", "from-the-form");
  await page.fill("textarea[name=input]", "{oops");
  await page.click("button:has-text('Start')");
  await expectText(page.locator(".error"), /not valid JSON/);
  expect(await page.inputValue("textarea[name=input]")).toBe("{oops"); // kept for fixing
  expect(await c.getOrchestrationState("from-the-form")).toBeUndefined();

  await page.fill("textarea[name=input]", '{"ok": true}');
  await page.click("button:has-text('Start')");
  await expectText(page.locator(".notice"), /Started/);
  expect(page.url()).toContain("/orchestrations/from-the-form");
  await completed(c, "from-the-form");
});

test("entities and workers pages", async () => {
  const counter = new EntityInstanceId("counter", "k1");
  const state = async () => (await c.getEntity<number>(counter))?.state;
  await c.signalEntity(counter, "add", 5);
  await pollUntil(state, (v) => v === 5, "the counter at 5");
  await page.goto(`${base}/hubs/default/entities`);
  await page.click("text=counter");
  expect(await page.locator("#state").textContent()).toBe("5");
  await page.fill("input[name=operation]", "add");
  await page.fill("input[name=input]", "2");
  await page.click("button:has-text('Signal')");
  await expectText(page.locator(".notice"), /Signal sent/);
  await pollUntil(state, (v) => v === 7, "the counter at 7");

  await page.goto(`${base}/hubs/default/workers`);
  expect(await page.locator("#worker-count").textContent()).toBe("1");
  await expectText(page.locator("table").first(), /Orchestrations/);
});

test("markup in an instance id and input renders as text and runs no script", async () => {
  const id = `<img src=x onerror="window.__xss=1">`;
  await c.scheduleNewOrchestration("waitForApproval", { html: "<script>window.__xss=2</script>" }, id);
  await c.waitForOrchestrationStart(id);
  await page.goto(`${base}/hubs/default/orchestrations`);
  await expectText(page.locator("tbody"), /<img src=x onerror/);
  await page.goto(`${base}/hubs/default/orchestrations/${encodeURIComponent(id)}`);
  expect(await page.locator("h1").textContent()).toContain(id);
  expect(await page.locator("#input").textContent()).toContain("<script>window.__xss=2</script>");
  expect(await page.evaluate("window.__xss")).toBeUndefined();
  expect(await page.locator("img[src=x]").count()).toBe(0);
  await c.terminateOrchestration(id, "done");
});

test("what a running instance waits on: its activity with the worker, attempt and since when, and its timer; the workers page lists the worker", async () => {
  const id = await c.scheduleNewOrchestration("blocked");
  await c.waitForOrchestrationStart(id);
  await page.goto(`${base}/hubs/default/orchestrations/${id}`);
  await pollUntil(async () => {
    await page.reload();
    return (await page.locator(".card:has(h2:text('Waiting on'))").textContent()) ?? "";
  }, (t) => /Activity blocker \(task \d+, attempt 1\) with worker/.test(t), "the activity with its worker on the page", 10_000);
  await expectText(page.locator(".card:has(h2:text('Waiting on'))"), /Timer \d+ due/);

  await page.goto(`${base}/hubs/default/workers`);
  const rows = page.locator("table").nth(1).locator("tbody tr");
  expect(await rows.count()).toBe(1);
  await expectText(rows.first(), /receiving/);
  await expectText(rows.first(), /1 \/ \d+/); // the blocker activity in flight

  release();
  await completed(c, id);
});

test("what an instance waits on in entities: a lock another orchestration holds; the holder waits for an external event", async () => {
  const holder = await c.scheduleNewOrchestration("holdLock");
  const waitingOn = page.locator(".card:has(h2:text('Waiting on'))");
  // The holder has its lock once nothing but an external event is left to wait for.
  await page.goto(`${base}/hubs/default/orchestrations/${holder}`);
  await pollUntil(async () => {
    await page.reload();
    return (await waitingOn.textContent()) ?? "";
  }, (t) => /waits for an external event/.test(t), "the holder waiting for its event", 10_000);

  const waiter = await c.scheduleNewOrchestration(lockAndAdd, "held");
  await page.goto(`${base}/hubs/default/orchestrations/${waiter}`);
  await pollUntil(async () => {
    await page.reload();
    return (await waitingOn.textContent()) ?? "";
  }, (t) => /A lock on @counter@held, not yet granted/.test(t), "the waiter's lock request on the page", 10_000);

  await c.raiseOrchestrationEvent(holder, "Done");
  expect((await completed(c, waiter)).serializedOutput).toBe("1");
  await completed(c, holder);
});

test("a form post from another site is refused", async () => {
  const r = await fetch(`${base}/hubs/default/orchestrations`, {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" }, body: "name=helloCities&instanceId=csrf",
  });
  expect(r.status).toBe(403);
  expect(await c.getOrchestrationState("csrf")).toBeUndefined();
});

async function expectText(locator: ReturnType<Page["locator"]>, pattern: RegExp): Promise<void> {
  await locator.waitFor();
  await pollUntil(async () => (await locator.textContent()) ?? "", (t) => pattern.test(t), `text ${pattern}`, 10_000);
}

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
  }, 60_000);
