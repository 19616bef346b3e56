/**
 * The dashboard page: one self-contained HTML document (its style and script
 * inline, nothing fetched from elsewhere). It holds no data and no secret.
 */
import { SCRIPT } from "./script";

export const STYLE = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #111827; background: #f9fafb; }
body { margin: 0 auto; max-width: 1100px; padding: 16px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; justify-content: space-between; }
form { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
input, select, textarea, button { font: inherit; padding: 4px 8px; border: 1px solid #d1d5db; border-radius: 4px; background: #fff; }
button { background: #2563eb; color: #fff; border-color: #2563eb; cursor: pointer; }
#status { color: #4b5563; } #status.bad { color: #b91c1c; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 10px; }
.label { color: #6b7280; font-size: 12px; } .value { font-size: 20px; font-weight: 600; }
#chart svg { width: 100%; height: auto; background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; }
.grid { stroke: #e5e7eb; } .axis { font-size: 11px; fill: #6b7280; }
.key { margin-right: 12px; } .key::before { content: ""; display: inline-block; width: 12px; height: 3px; margin-right: 4px; vertical-align: middle; background: var(--c); }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e7eb; } td { font-variant-numeric: tabular-nums; }
.url { word-break: break-all; font-family: ui-monospace, monospace; font-size: 12px; }
pre { background: #fff; border: 1px solid #e5e7eb; padding: 8px; overflow: auto; max-height: 360px; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; } ul { padding-left: 20px; margin: 0; }
`;

export const PAGE_TEMPLATE = (style: string, script: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>edge-cache dashboard</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<header>
  <div><h1>edge-cache</h1><div>Counting <span id="scope">-</span>. <span id="status">Loading…</span></div></div>
  <form id="token-form" autocomplete="off">
    <input id="token" type="password" placeholder="admin token" aria-label="admin token">
    <button type="submit">Use token</button>
    <select id="window" aria-label="window"><option value="15m">15 minutes</option><option value="1h" selected>1 hour</option><option value="24h">24 hours</option></select>
    <button type="button" id="refresh">Refresh</button>
  </form>
</header>
<h2>Site</h2>
<div class="cards" id="summary"></div>
<h2>Hit ratio per minute</h2>
<div id="chart"></div><div id="legend"></div>
<h2>Routes</h2>
<table><thead><tr><th>Route</th><th>Requests</th><th>Edge hits</th><th>KV hits</th><th>Misses</th><th>Bypass</th><th>Stale</th><th>Errors</th><th>Hit ratio</th><th>From cache</th><th>From origin</th><th>Origin p50 / p95 ms</th></tr></thead><tbody id="routes"></tbody></table>
<h2>Top misses</h2>
<table><thead><tr><th>URL</th><th>Reason</th><th>Origin fetches</th><th></th></tr></thead><tbody id="misses"></tbody></table>
<div id="explain-box" hidden><h2>Explain <span id="explain-url" class="url"></span></h2><pre id="explain"></pre></div>
<div class="columns">
  <div><h2>Purge</h2>
    <form id="purge-form">
      <select id="purge-kind" aria-label="what to purge"><option value="urls">URLs</option><option value="prefixes">prefixes</option><option value="tags">tags</option><option value="routes">routes</option><option value="everything">everything</option></select>
      <label><input type="checkbox" id="purge-soft"> soft</label>
      <textarea id="purge-values" rows="3" cols="48" placeholder="one per line" aria-label="purge targets"></textarea>
      <button type="submit">Purge</button>
    </form>
    <p id="purge-result"></p>
    <h2>Recent purges</h2><ul id="purges"></ul>
  </div>
  <div><h2>Active rules</h2><p id="rules-info"></p><ul id="rules-routes"></ul></div>
</div>
<h2>Try a rules file on recent traffic</h2>
<form id="try-form">
  <textarea id="try-rules" rows="8" cols="100" spellcheck="false" placeholder="paste a rules file (JSON); nothing is changed" aria-label="rules file to try"></textarea>
  <button type="submit">Try</button>
</form>
<p id="try-result"></p>
<table><thead><tr><th>Request</th><th>What changes</th><th>Now</th><th>With this file</th></tr></thead><tbody id="try-changes"></tbody></table>
<script>${script}</script>
</body>
</html>
`;

export const PAGE = PAGE_TEMPLATE(STYLE, SCRIPT);
