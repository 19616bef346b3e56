/**
 * `edge-cache stats --site URL [--window 1h] [--json]`: the Worker's statistics
 * (GET /.edge-cache/stats) as a table: hit ratio per route, then the top misses.
 */
import { isWindow, WINDOWS, type RouteSummary, type StatsAnswer } from "../stats/summary";
import { adminToken, callAdmin, parseSite, TOKEN_ENV } from "./admin-client";
import { parseCli } from "./cli-args";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";

const USAGE = `Usage: edge-cache stats --site https://www.example.com [--window 1h] [--json]

Prints what the Worker counted: requests, hit ratio, hits per tier, misses, bypasses,
stale answers, errors and bytes per route and for the site, then the URLs fetched most
from the origin with the reason.

Options:
  --site URL       the site the Worker serves (required)
  --window W       ${Object.keys(WINDOWS).join(", ")} (default 1h)
  --json           print the Worker's answer as JSON
  -h, --help       show this help

The admin token is read from ${TOKEN_ENV} (the Worker's ADMIN_TOKEN secret).
Exits 0 when the statistics were read, 1 when the call fails, 2 on a usage error.
`;

export const stats: Command = {
  name: "stats",
  summary: "hit ratio per route and the top misses of a running Worker",
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCli(argv, {
      site: { type: "string" },
      window: { type: "string", default: "1h" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (values.site === undefined) throw new CliUsageError("name the site with --site https://www.example.com");
    const site = parseSite(values.site, "--site");
    const window = values.window ?? "1h";
    if (!isWindow(window)) throw new CliUsageError(`--window must be one of ${Object.keys(WINDOWS).join(", ")}, got ${JSON.stringify(window)}`);
    const answer = await callAdmin(site, adminToken(), "GET", `stats?window=${window}`);
    io.out(values.json ? `${JSON.stringify(answer, null, 2)}\n` : formatStats(answer as unknown as StatsAnswer, site.origin));
    return EXIT.ok;
  },
};

const COLUMNS = ["route", "requests", "hit ratio", "edge", "kv", "misses", "bypass", "stale", "errors", "from cache", "from origin", "origin p50/p95"];

function row(name: string, r: RouteSummary): string[] {
  const latency = r.origin.fetches > 0 ? `${r.origin.p50Ms}/${r.origin.p95Ms} ms` : "-";
  return [name, r.requests, `${(r.hitRatio * 100).toFixed(1)} %`, r.hits.edge, r.hits.kv, r.misses, r.bypass, r.stale, r.errors, bytes(r.bytes.cache), bytes(r.bytes.origin), latency].map(String);
}

export function bytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

/** Left-aligned first column, right-aligned numbers. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd());
}

export function formatStats(a: StatsAnswer, site: string): string {
  const scope = a.scope === "site" ? "the whole site" : "one isolate only (no coordinator answered)";
  const lines = [`${site}, last ${a.window}, counted by ${scope}`, ""];
  const rows = [COLUMNS, ...Object.entries(a.routes).map(([name, r]) => row(name, r)), row("(site)", a.total)];
  lines.push(...table(rows), "");
  if (a.topMisses.length === 0) {
    lines.push("No requests went to the origin.");
  } else {
    lines.push("Top misses (fetched from the origin)");
    const cw = Math.max(5, ...a.topMisses.map((m) => String(m.count).length));
    const rw = Math.max(6, ...a.topMisses.map((m) => m.reason.length));
    lines.push(`  ${"count".padStart(cw)}  ${"reason".padEnd(rw)}  url`);
    for (const m of a.topMisses) lines.push(`  ${String(m.count).padStart(cw)}  ${m.reason.padEnd(rw)}  ${m.url}`);
  }
  return `${lines.join("\n")}\n`;
}
