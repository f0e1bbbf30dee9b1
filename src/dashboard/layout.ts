// The frame every page shares: title, the hub switcher, the hub's sections, notices.
import { html, Html } from "./html";
import { seg } from "./format";

export type Section = "hubs" | "orchestrations" | "new" | "entities" | "schedules" | "workers";

export interface PageFrame {
  title: string;
  hub?: string;
  hubs: string[];
  section: Section;
  /** Reload the page every n seconds (the list's auto-refresh). */
  refreshSeconds?: number;
  notice?: string;
  error?: string;
}

export function hubPath(hub: string, rest = ""): string {
  return `/hubs/${seg(hub)}${rest}`;
}

export function page(frame: PageFrame, body: Html): Html {
  const { hub } = frame;
  const current = (s: Section) => (frame.section === s ? html` aria-current="page"` : "");
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${frame.refreshSeconds ? html`<meta http-equiv="refresh" content="${frame.refreshSeconds}">` : ""}
<title>${frame.title} · Durable Task Scheduler</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/">Durable Task Scheduler</a>
  ${hub ? html`<nav aria-label="Task hub">
    <a href="${hubPath(hub, "/orchestrations")}"${current("orchestrations")}>Orchestrations</a>
    <a href="${hubPath(hub, "/new")}"${current("new")}>New orchestration</a>
    <a href="${hubPath(hub, "/entities")}"${current("entities")}>Entities</a>
    <a href="${hubPath(hub, "/schedules")}"${current("schedules")}>Schedules</a>
    <a href="${hubPath(hub, "/workers")}"${current("workers")}>Workers</a>
  </nav>` : html`<nav aria-label="Dashboard"><a href="/"${current("hubs")}>Task hubs</a></nav>`}
  <form action="/switch" method="get">
    <label>Task hub
      <select name="hub" data-navigate aria-label="Switch task hub">
        ${hub ? "" : html`<option value="">Choose…</option>`}
        ${frame.hubs.map((h) => html`<option value="${hubPath(h, "/orchestrations")}"${h === hub ? html` selected` : ""}>${h}</option>`)}
      </select>
    </label>
    <noscript><button type="submit">Go</button></noscript>
  </form>
</header>
<main>
${frame.notice ? html`<p class="notice" role="status">${frame.notice}</p>` : ""}
${frame.error ? html`<p class="error" role="alert">${frame.error}</p>` : ""}
${body}
</main>
</body>
</html>`;
}
