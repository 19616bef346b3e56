/**
 * The dashboard's script, run by the browser. It holds no data of its own: it asks
 * the token-protected admin endpoints and draws what they answer. Every value is set
 * as text (never as HTML), so nothing a URL or a rule name holds can run.
 */
export const SCRIPT = String.raw`
"use strict";
const API = "/.edge-cache/";
// The token lives in this page's memory only, retyped after a reload: sessionStorage,
// localStorage and cookies are readable by every page of the site's origin (a
// third-party tag, an XSS) once the admin opens one in this tab.
let token = null;
const $ = (id) => document.getElementById(id);
const COLORS = ["#2563eb", "#16a34a", "#db2777", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#4b5563"];

// The token leaves the address bar before anything else runs: it must not stay in history.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.has("token")) {
  token = fragment.get("token") || null;
  fragment.delete("token");
  const rest = fragment.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const svgEl = (tag, attrs) => {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};
const pct = (r) => (Math.round(r * 1000) / 10).toFixed(1) + " %";
function bytes(n) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}
function setStatus(text, bad) {
  const s = $("status");
  s.textContent = text;
  s.className = bad ? "bad" : "";
}

async function api(path, init) {
  if (!token) throw new Error("Enter the admin token to see the statistics.");
  const headers = { authorization: "Bearer " + token, accept: "application/json" };
  if (init && init.body) headers["content-type"] = "application/json";
  const res = await fetch(API + path, { ...init, headers, cache: "no-store" });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    token = null;
    throw new Error("The token was refused: enter the Worker's ADMIN_TOKEN.");
  }
  if (!res.ok) {
    const problems = Array.isArray(body.problems) ? body.problems.filter((p) => p.severity === "error").map((p) => p.path + ": " + p.message) : [];
    throw new Error([body.message || res.status + " from " + path, ...problems].join(" "));
  }
  return body;
}

function fill(id, rows) {
  const body = $(id);
  body.replaceChildren(...rows);
}

function renderSummary(t) {
  const cards = [
    ["requests", "Requests", t.requests],
    ["hit-ratio", "Hit ratio", pct(t.hitRatio)],
    ["hits", "Hits (edge / KV)", (t.hits.edge + t.hits.kv) + " (" + t.hits.edge + " / " + t.hits.kv + ")"],
    ["misses", "Misses", t.misses],
    ["bypass", "Bypass", t.bypass],
    ["stale", "Stale", t.stale],
    ["errors", "Errors", t.errors],
    ["offload-requests", "Offload (requests)", pct(t.offload.requests)],
    ["offload-bytes", "Offload (bytes)", pct(t.offload.bytes) + " of " + bytes(t.bytes.cache + t.bytes.origin)],
    ["origin-latency", "Origin p50 / p95", t.origin.fetches ? t.origin.p50Ms + " / " + t.origin.p95Ms + " ms" : "none"],
  ];
  fill("summary", cards.map(([id, label, value]) => el("div", { class: "card" }, el("div", { class: "label" }, label), el("div", { class: "value", id: "total-" + id }, value))));
}

function renderChart(series, routes) {
  const W = 720, H = 200, n = series.length;
  const svg = svgEl("svg", { viewBox: "0 0 " + (W + 50) + " " + (H + 30), role: "img", "aria-label": "Hit ratio per minute" });
  for (const r of [0, 0.5, 1]) {
    const y = 5 + H - r * H;
    svg.append(svgEl("line", { x1: 40, x2: W + 40, y1: y, y2: y, class: "grid" }));
    const label = svgEl("text", { x: 0, y: y + 4, class: "axis" });
    label.textContent = r * 100 + " %";
    svg.append(label);
  }
  const x = (i) => 40 + (n <= 1 ? W : (i / (n - 1)) * W);
  const line = (pick, color, width) => {
    // Minutes without requests have no ratio: the line breaks there, and a lone minute is a dot.
    let d = "";
    let last = -2;
    series.forEach((p, i) => {
      const v = pick(p);
      if (!v || v.requests === 0) return;
      const cx = x(i).toFixed(1), cy = (5 + H - (v.hits / v.requests) * H).toFixed(1);
      d += (last === i - 1 ? " L" : " M") + cx + " " + cy;
      last = i;
      svg.append(svgEl("circle", { cx, cy, r: width + 0.5, fill: color }));
    });
    if (d) svg.append(svgEl("path", { d: d.trim(), stroke: color, "stroke-width": width, fill: "none" }));
  };
  // Colours through the CSSOM: the page's CSP allows no inline style attributes.
  const key = (name, color) => {
    const k = el("span", { class: "key" }, name);
    k.style.setProperty("--c", color);
    return k;
  };
  const legend = [key("site", "#111827")];
  routes.forEach((name, i) => {
    const color = COLORS[i % COLORS.length];
    line((p) => p.routes[name], color, 1.5);
    legend.push(key(name, color));
  });
  line((p) => p, "#111827", 3);
  for (const [i, anchor] of [[0, "start"], [n - 1, "end"]]) {
    if (!series[i]) continue;
    const t = svgEl("text", { x: x(i), y: H + 25, class: "axis", "text-anchor": anchor });
    t.textContent = new Date(series[i].t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    svg.append(t);
  }
  $("chart").replaceChildren(svg);
  $("legend").replaceChildren(...legend);
}

function renderRoutes(routes) {
  fill("routes", Object.entries(routes).map(([name, r]) => el("tr", { "data-route": name },
    el("th", {}, name), el("td", {}, r.requests), el("td", {}, r.hits.edge), el("td", {}, r.hits.kv), el("td", {}, r.misses),
    el("td", {}, r.bypass), el("td", {}, r.stale), el("td", {}, r.errors), el("td", {}, pct(r.hitRatio)),
    el("td", {}, bytes(r.bytes.cache)), el("td", {}, bytes(r.bytes.origin)),
    el("td", {}, r.origin.fetches ? r.origin.p50Ms + " / " + r.origin.p95Ms : "-"))));
}

function renderMisses(misses) {
  fill("misses", misses.map((m) => el("tr", {},
    el("td", { class: "url" }, m.url), el("td", {}, m.reason), el("td", {}, m.count),
    el("td", {}, el("a", { href: "#explain=" + encodeURIComponent(m.url) }, "explain")))));
}

async function refresh() {
  try {
    const [stats, rules, purges] = await Promise.all([api("stats?window=" + $("window").value), api("rules"), api("purges")]);
    renderSummary(stats.total);
    renderChart(stats.series, Object.keys(stats.routes));
    renderRoutes(stats.routes);
    renderMisses(stats.topMisses);
    $("scope").textContent = stats.scope === "site" ? "the whole site" : "this isolate only (no coordinator)";
    $("rules-info").textContent = "version " + (rules.version ?? "-") + ", from " + rules.source + (rules.uploadedAt ? ", uploaded " + rules.uploadedAt : "");
    fill("rules-routes", rules.routes.map((r) => el("li", {}, r)));
    fill("purges", purges.purges.map((p) => el("li", {}, p.at + "  " + (p.soft ? "soft " : "") + p.kind + (p.value === null ? "" : ": " + p.value))));
    setStatus("Updated " + new Date().toLocaleTimeString());
  } catch (e) {
    setStatus(e.message, true);
  }
}

async function explain() {
  const url = new URLSearchParams(location.hash.slice(1)).get("explain");
  if (!url) return;
  $("explain-url").textContent = url;
  try {
    $("explain").textContent = JSON.stringify(await api("explain?url=" + encodeURIComponent(url)), null, 2);
  } catch (e) {
    $("explain").textContent = e.message;
  }
  $("explain-box").hidden = false;
}

$("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = $("token").value.trim();
  if (value) token = value;
  $("token").value = "";
  refresh();
});
$("purge-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const kind = $("purge-kind").value;
  const values = $("purge-values").value.split("\n").map((v) => v.trim()).filter(Boolean);
  const body = kind === "everything" ? { everything: true } : { [kind]: values };
  if ($("purge-soft").checked) body.soft = true;
  try {
    const answer = await api("purge", { method: "POST", body: JSON.stringify(body) });
    $("purge-result").textContent = "Purged at " + answer.at + ". " + (answer.warnings || []).join(" ");
    $("purge-values").value = "";
    refresh();
  } catch (e) {
    $("purge-result").textContent = e.message;
  }
});
$("try-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const answer = await api("try-rules", { method: "POST", body: $("try-rules").value });
    $("try-result").textContent = answer.changed.length + " of " + answer.compared + " recent requests would change" + (answer.scope === "site" ? "." : " (this isolate's sample only).");
    fill("try-changes", answer.changed.flatMap((c) => Object.entries(c.changes).map(([aspect, d]) =>
      el("tr", {}, el("td", { class: "url" }, c.method + " " + c.url), el("td", {}, aspect), el("td", {}, d.old), el("td", {}, d.new)))));
  } catch (e) {
    $("try-result").textContent = e.message;
    fill("try-changes", []);
  }
});
$("window").addEventListener("change", refresh);
$("refresh").addEventListener("click", refresh);
window.addEventListener("hashchange", explain);
refresh();
explain();
setInterval(refresh, 10000);
`;
