// The frame every page shares: title, the hub switcher, the hub's sections, notices.
import type { Caller } from "./caller";
import { html, Html } from "./html";
import { seg } from "./format";

export type Section = "hubs" | "orchestrations" | "new" | "entities" | "schedules" | "workers" | "retention";

export interface PageFrame {
  title: string;
  hub?: string;
  hubs: string[];
  /** Who is looking (name, sign-out, whether they may act); absent on pages for someone not signed in. */
  viewer?: Caller;
  section: Section;
  /** Reload the page every n seconds (the list's auto-refresh). */
  refreshSeconds?: number;
  /** Go on to this address at once (a form's post may not redirect to another origin under the CSP; this may). */
  goTo?: string;
  notice?: string;
  error?: string;
}

export function hubPath(hub: string, rest = ""): string {
  return `/hubs/${seg(hub)}${rest}`;
}

export function page(frame: PageFrame, body: Html): Html {
  const { hub, viewer } = frame;
  const current = (s: Section) => (frame.section === s ? html` aria-current="page"` : "");
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${frame.refreshSeconds ? html`<meta http-equiv="refresh" content="${frame.refreshSeconds}">` : ""}
${frame.goTo ? html`<meta http-equiv="refresh" content="0; url=${frame.goTo}">` : ""}
<title>${frame.title} · Durable Task Scheduler</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/">Durable Task Scheduler</a>
  ${hub ? html`<nav aria-label="Task hub">
    <a href="${hubPath(hub, "/orchestrations")}"${current("orchestrations")}>Orchestrations</a>
    ${viewer?.may("write", hub) === false ? "" : html`<a href="${hubPath(hub, "/new")}"${current("new")}>New orchestration</a>`}
    <a href="${hubPath(hub, "/entities")}"${current("entities")}>Entities</a>
    <a href="${hubPath(hub, "/schedules")}"${current("schedules")}>Schedules</a>
    <a href="${hubPath(hub, "/workers")}"${current("workers")}>Workers</a>
    <a href="${hubPath(hub, "/retention")}"${current("retention")}>Retention</a>
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
  ${viewer?.name !== undefined ? whoIsSignedIn(viewer, hub) : ""}
</header>
<main>
${frame.notice ? html`<p class="notice" role="status">${frame.notice}</p>` : ""}
${frame.error ? html`<p class="error" role="alert">${frame.error}</p>` : ""}
${body}
</main>
</body>
</html>`;
}

/** Who is signed in, whether they may only read here, and the sign-out button (a post: no link can sign anyone out). */
function whoIsSignedIn(viewer: Caller, hub: string | undefined): Html {
  const readOnly = hub !== undefined && !viewer.may("write", hub);
  return html`<div class="who"><span>Signed in as <strong id="signed-in-as">${viewer.name ?? ""}</strong>${readOnly ? html` <span class="muted" id="read-only">(read only)</span>` : ""}</span>
  ${viewer.session ? html`<form action="/auth/sign-out" method="post"><button type="submit">Sign out</button></form>` : ""}</div>`;
}
