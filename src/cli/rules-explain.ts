/**
 * `edge-cache rules explain URL`: what the Worker would decide for one request under a
 * rules file, offline, by the very function the explain endpoint uses.
 */
import { decide, parseHeaderArgs, type Decision } from "../explain/decide";
import { DIMENSION_HEADERS } from "../policy/dimensions";
import { MAX_COOL_OFF_MS } from "../policy/origin-health";
import type { CompiledRoute, OriginMode } from "../rules/types";
import { parseCli } from "./cli-args";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";
import { DEFAULT_RULES_FILE } from "./rules-check";
import { loadRulesFile, reportInvalid } from "./rules-file";

const USAGE = `Usage: edge-cache rules explain URL [-H 'Name: value']... [--rules FILE] [--method M] [--country CC] [--json]

Shows what the Worker would do with one request under a rules file: the route and
why each earlier route did not match, the bypass verdict, the cache key and its
parts, the origin URL, TTLs and tiers. Offline: nothing is sent anywhere. (For what
a running Worker holds, use GET /.edge-cache/explain.)

Arguments:
  URL                  the request's absolute URL (https://www.example.com/page?q=1)

Options:
  -H, --header 'N: v'  a request header to simulate; repeat for more
  --rules FILE         rules file (default: ${DEFAULT_RULES_FILE})
  --method M           request method (default: GET)
  --country CC         the client's country as Cloudflare sees it (default: XX, unknown)
  --json               print the decision as JSON
  -h, --help           show this help

Exits 0 when explained, 1 when the rules file is invalid, 2 on a usage error.
`;

export const rulesExplain: Command = {
  name: "rules explain",
  summary: "show the route, bypass, key and TTLs for one URL",
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCli(argv, {
      header: { type: "string", short: "H", multiple: true },
      rules: { type: "string" },
      method: { type: "string" },
      country: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new CliUsageError(positionals.length === 0 ? "name the URL to explain" : `expected one URL, got ${positionals.length}`);
    const url = parseRequestUrl(positionals[0]!);
    const headers = parseHeaderArgs(values.header ?? []);
    if (!headers.ok) throw new CliUsageError(`-H: ${headers.message}`);
    const method = parseMethod(values.method);
    const country = values.country;
    if (country !== undefined && !/^[A-Za-z][A-Za-z0-9]$/.test(country)) throw new CliUsageError(`--country must be a two-letter country code such as DE, got ${JSON.stringify(country)}`);
    const loaded = await loadRulesFile(io, values.rules ?? DEFAULT_RULES_FILE);
    if (!reportInvalid(io, loaded)) return EXIT.failed;
    const decision = decide(loaded.rules, url, method, headers.headers, country);
    io.out(values.json ? `${JSON.stringify({ rules: loaded.file, ...decision }, null, 2)}\n` : formatDecision(decision, loaded.file));
    return EXIT.ok;
  },
};

/** An absolute http(s) URL, or a usage error that says how to write one. */
function parseRequestUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    const hint = value.startsWith("/") ? ` (rules may match on the host: write it whole, e.g. https://www.example.com${value})` : "";
    throw new CliUsageError(`not an absolute URL: ${JSON.stringify(value)}${hint}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliUsageError(`the URL must be http or https, got ${url.protocol}`);
  return url;
}

export function parseMethod(value: string | undefined): string {
  if (value === undefined) return "GET";
  if (!/^[A-Za-z]+$/.test(value)) throw new CliUsageError(`--method must be a method name such as GET or HEAD, got ${JSON.stringify(value)}`);
  return value.toUpperCase();
}

/** The decision as aligned text, one fact per line. */
function formatDecision(d: Decision, rulesFile: string): string {
  const lines: string[] = [`${d.request.method} ${d.request.url}`, `rules    ${rulesFile}`];
  if (d.request.headerNames.length > 0) lines.push(`headers  ${d.request.headerNames.join(", ")}`);
  lines.push(`route    ${d.route ? `${d.route.name} (routes[${d.route.index}])` : "none: passes through uncached"}`);
  const width = Math.max(0, ...d.tried.map((t) => t.name.length));
  for (const t of d.tried) lines.push(`           ${t.name.padEnd(width)}  ${t.matched ? "matched" : `no: ${t.reason}`}`);
  switch (d.outcome) {
    case "no-rule":
      lines.push("outcome  pass through (Cache-Status: fwd=bypass; detail=no-rule)");
      break;
    case "bypass":
      lines.push(`outcome  bypass: ${d.bypass!.reason}${d.bypass!.detail ? ` (${d.bypass!.detail})` : ""}, straight to the origin, nothing stored`);
      break;
    case "cache": {
      lines.push("outcome  looked up in the cache, stored when the answer allows");
      const k = d.key!;
      lines.push(`key      ${k.url}`);
      if (k.parts.dropped.length > 0) lines.push(`           query dropped: ${k.parts.dropped.join(", ")}`);
      for (const [name, value] of k.parts.headers) lines.push(`           header ${name}: ${value === null ? "(absent)" : value}`);
      for (const [name, value] of k.parts.cookies) lines.push(`           cookie ${name}: ${value === null ? "(absent)" : value}`);
      for (const [name, value] of Object.entries(k.parts.dimensions ?? {})) {
        lines.push(`           ${name} ${value}  (sent as ${DIMENSION_HEADERS[name as keyof typeof DIMENSION_HEADERS]}: ${value})`);
      }
      const s = d.settings!;
      lines.push(`ttl      ${ttlText(s.ttl.edge, s.origin)}; kv ${s.ttl.kv > 0 ? `${s.ttl.kv} s` : "not stored"}; browser ${s.ttl.browser === null ? "the origin's Cache-Control" : `${s.ttl.browser} s`}`);
      const status = Object.entries(s.status);
      if (status.length > 0) lines.push(`           per status: ${status.map(([c, t]) => `${c} ${t} s`).join(", ")}`);
      lines.push(`stale    while revalidating ${s.staleWhileRevalidate} s, on origin error ${s.staleIfError} s`);
      lines.push(`tiers    ${[d.tiers!.edge ? "edge" : null, d.tiers!.kv ? "kv" : null].filter(Boolean).join(", ") || "none"}`);
      if (s.tags.length > 0) lines.push(`tags     ${s.tags.join(", ")}`);
      if (d.tiers!.kv && s.kv.minHits > 1) lines.push(`kv       written on request ${s.kv.minHits} within the answer's lifetime in one isolate (kv.minHits)`);
      lines.push(`health   ${healthText(s.originHealth, s.fallbackOrigin)}`);
      if (s.buildHeader) lines.push(`build    entries of an older ${s.buildHeader} than the origin's latest are stale`);
      break;
    }
    default:
      d.outcome satisfies never;
  }
  lines.push(`origin   ${d.originUrl}`);
  return `${lines.join("\n")}\n`;
}

function healthText(h: CompiledRoute["originHealth"], fallback: string | null): string {
  if (!h) return "off: every request waits for the origin";
  // What counts is the origin's own failure (policy/origin-health.ts), plus what the route opts in to.
  const counted = ["connection failures", ...(h.count ?? []).map((c) => (c === "5xx" ? "5xx answers" : "timeouts"))].join(", ");
  const down = `down after ${h.failures} failures (${counted}) with no later request answered, for ${h.coolOffMs / 1000} s (doubling to ${MAX_COOL_OFF_MS / 1000} s): stale served at once, else 503`;
  return fallback ? `${down}; meanwhile ${fallback} is asked` : down;
}

function ttlText(edge: number | null, mode: OriginMode): string {
  if (edge === null) return `edge: the origin's Cache-Control decides (origin mode ${mode})`;
  if (edge === 0) return "edge: not stored";
  switch (mode) {
    case "override":
      return `edge ${edge} s, whatever the origin says (origin mode override)`;
    case "respect":
      return `edge: the origin's Cache-Control, at most ${edge} s (origin mode respect)`;
    case "fallback":
      return `edge: the origin's Cache-Control, else ${edge} s (origin mode fallback)`;
    default:
      return mode satisfies never;
  }
}
