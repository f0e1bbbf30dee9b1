// The dashboard's one stylesheet and one script, served from /assets/ (the CSP allows no inline
// script or style). The script only improves pages that work without it: local times, confirmations,
// copy buttons, the hub switcher and select-all.

export const STYLESHEET = `
:root { --fg: #1d2430; --muted: #5c6675; --line: #d8dde5; --bg: #f6f7f9; --card: #fff; --accent: #1f5fbf; --danger: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
header.top { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; padding: 10px 20px; background: #16202e; color: #fff; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 600; font-size: 15px; }
header.top nav { display: flex; gap: 16px; flex-wrap: wrap; }
header.top nav a[aria-current="page"] { text-decoration: underline; text-underline-offset: 4px; }
header.top form { margin-left: auto; }
header.top select { padding: 3px 6px; }
main { padding: 16px 20px 40px; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 20px; margin: 4px 0 12px; word-break: break-all; }
h2 { font-size: 16px; margin: 20px 0 8px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin-bottom: 14px; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.id, td.mono, pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
td.id { word-break: break-all; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
.muted { color: var(--muted); }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.status::before { margin-right: 4px; }
.status-running { color: #0b5394; border-color: #7fa7d8; background: #eaf2fc; } .status-running::before { content: "▶"; }
.status-pending { color: #5c6675; border-color: #b9c0ca; background: #f1f3f6; } .status-pending::before { content: "…"; }
.status-completed { color: #1e6b34; border-color: #88c49a; background: #eaf6ee; } .status-completed::before { content: "✓"; }
.status-failed { color: var(--danger); border-color: #e3a19c; background: #fcecea; } .status-failed::before { content: "✕"; }
.status-terminated { color: #7a4b00; border-color: #d8b36d; background: #fbf3e3; } .status-terminated::before { content: "■"; }
.status-suspended { color: #5b3e9b; border-color: #b8a6e0; background: #f2eefb; } .status-suspended::before { content: "❚❚"; }
.status-canceled, .status-continuedasnew { color: #5c6675; border-color: #b9c0ca; background: #f1f3f6; }
form.filters { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: flex-end; }
form.filters fieldset { border: 0; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 10px; }
form.card > fieldset { border: 0; padding: 0; margin: 0; }
.who { display: flex; align-items: center; gap: 8px; margin-left: auto; }
.who form { margin: 0; }
form.filters legend, label.field span { display: block; font-size: 12px; color: var(--muted); margin-bottom: 2px; }
label.field { display: flex; flex-direction: column; }
input[type=text], input[type=datetime-local], input[type=search], select, textarea { font: inherit; padding: 4px 6px; border: 1px solid #b9c0ca; border-radius: 4px; background: #fff; }
textarea { width: 100%; min-height: 120px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
button, .button { font: inherit; padding: 5px 12px; border-radius: 4px; border: 1px solid #9aa5b4; background: #fff; color: var(--fg); cursor: pointer; text-decoration: none; display: inline-block; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { border-color: var(--danger); color: var(--danger); }
button:disabled { opacity: .45; cursor: not-allowed; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; margin: 8px 0 14px; }
.actions form { display: inline-flex; gap: 6px; align-items: center; margin: 0; }
.pager { display: flex; gap: 12px; align-items: center; margin: 10px 0; flex-wrap: wrap; }
.notice { padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; border: 1px solid #88c49a; background: #eaf6ee; }
.error { padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; border: 1px solid #e3a19c; background: #fcecea; color: var(--danger); }
dl.props { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.props dt { color: var(--muted); }
dl.props dd { margin: 0; word-break: break-all; }
pre { background: #f1f3f6; border: 1px solid var(--line); border-radius: 4px; padding: 8px; overflow: auto; max-height: 360px; margin: 4px 0; white-space: pre-wrap; word-break: break-all; }
.payload { position: relative; }
.payload button.copy { position: absolute; top: 6px; right: 6px; font-size: 12px; padding: 1px 8px; }
.tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--line); margin: 16px 0 10px; }
.tabs a { padding: 6px 12px; border: 1px solid transparent; border-bottom: 0; border-radius: 4px 4px 0 0; text-decoration: none; }
.tabs a[aria-current="page"] { border-color: var(--line); background: var(--card); color: var(--fg); font-weight: 600; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 14px; }
svg.timeline { width: 100%; height: auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
svg.timeline text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg.timeline .bar-activity { fill: #7fa7d8; } svg.timeline .bar-timer { fill: #c9b3ec; } svg.timeline .bar-sub { fill: #88c49a; }
svg.timeline .bar-failed { fill: #e3a19c; } svg.timeline .bar-open { fill-opacity: .5; stroke: #5c6675; stroke-dasharray: 3 2; }
svg.timeline .mark { fill: #d8b36d; } svg.timeline .axis { stroke: var(--line); }
.counts { display: flex; flex-wrap: wrap; gap: 6px; }
@media (max-width: 700px) { main { padding: 10px; } header.top form { margin-left: 0; } th.optional, td.optional { display: none; } }
`;

export const SCRIPT = `
"use strict";
document.querySelectorAll("time[datetime]").forEach(function (t) {
  var d = new Date(t.getAttribute("datetime"));
  if (!isNaN(d)) t.textContent = d.toLocaleString();
});
// Confirmed in the browser: the server then needs no confirmation page of its own.
document.querySelectorAll("form[data-confirm]").forEach(function (f) {
  f.addEventListener("submit", function (e) {
    if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); return; }
    var yes = document.createElement("input");
    yes.type = "hidden"; yes.name = "confirm"; yes.value = "yes";
    f.appendChild(yes);
  });
});
document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
  b.addEventListener("click", function () {
    var el = document.getElementById(b.getAttribute("data-copy"));
    if (el && navigator.clipboard) navigator.clipboard.writeText(el.textContent).then(function () { b.textContent = "Copied"; });
  });
});
document.querySelectorAll("select[data-navigate]").forEach(function (s) {
  s.addEventListener("change", function () { if (s.value) window.location.href = s.value; });
});
var all = document.querySelector("input[data-select-all]");
if (all) all.addEventListener("change", function () {
  document.querySelectorAll("input[name=id]").forEach(function (c) { c.checked = all.checked; });
});
`;
