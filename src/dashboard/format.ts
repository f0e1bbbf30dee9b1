// How values look on the pages: statuses, times (local in the browser, UTC on hover), durations, JSON.
import { InstanceRecord, Status, statusName } from "../core/model";
import { html, Html } from "./html";

/** A time the page script shows in local time; the element holds ISO UTC text and title. */
export function time(ms: number | undefined): Html {
  if (ms === undefined || !Number.isFinite(ms)) return html`<span class="muted">–</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}" title="${iso.replace("T", " ").replace("Z", " UTC")}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** How long an instance ran, or has run so far. */
export function runTime(r: InstanceRecord, now: number): number {
  return (r.completedAt ?? now) - r.createdAt;
}

/** A status badge: the name in words, so colour is never the only signal. */
export function statusBadge(s: Status): Html {
  const name = statusName(s);
  return html`<span class="status status-${name.toLowerCase()}">${name}</span>`;
}

/** A payload as indented JSON when it parses, else as the text it is. */
export function prettyJson(text: string | undefined): string {
  if (text === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Percent-encodes a path segment (instance ids may hold any character). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
