/**
 * `edge-cache audit --rules FILE URL... | --urls FILE | --sitemap URL`: before going
 * live, what the cache will do with each page of a site. Each URL is fetched from the
 * origin (audit-url.ts: one GET, a conditional GET, a redirect's chain), then put
 * through the Worker's own decisions, and what a site owner should fix is listed
 * (audit-warnings.ts). Nothing goes through a Worker; nothing is stored.
 */
import { parseHeaderArgs } from "../explain/decide";
import { auditUrl, type AuditResult, type Storage } from "./audit-url";
import { findings, type Finding } from "./audit-warnings";
import { parseCli } from "./cli-args";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";
import { DEFAULT_RULES_FILE } from "./rules-check";
import { readUrlList } from "./rules-diff";
import { loadRulesFile, reportInvalid } from "./rules-file";
import { sitemapUrls } from "./sitemap";

const DEFAULT_LIMIT = 500;
/** URLs audited at once: enough to be quick, few enough to be gentle on an origin. */
const PARALLEL = 4;
const USER_AGENT = "edge-cache-audit/0.1";

const USAGE = `Usage: edge-cache audit [--rules FILE] URL...
       edge-cache audit [--rules FILE] --urls FILE
       edge-cache audit [--rules FILE] --sitemap URL [--limit N]

Before going live: for each URL, asks the origin once (and once more with its
validators, If-None-Match / If-Modified-Since), then shows what the Worker would
decide under the rules file: the route, the cache key, whether the answer is stored
and why not, how long in each tier, Vary and how its values are matched, the
validators. Then what to fix: Set-Cookie on a route that stores, private / no-store
/ max-age=0 on assets, Vary: User-Agent or Cookie, long-lived pages without
validators, a Content-Type that does not fit the extension, fingerprinted assets
without immutable, redirect chains, an origin that never answers 304.

The origin is the rules file's "origin" (the Worker's own origin fetch), else the
URL itself; --origin names another (a staging server, or the origin before the DNS
moves).

Options:
  --rules FILE         rules file (default: ${DEFAULT_RULES_FILE})
  --urls FILE          the URLs, one per line (as for rules diff; a leading method
                       is read and ignored: the audit asks with GET)
  --sitemap URL        the URLs of a sitemap (or a sitemap index), at most --limit
  --limit N            at most N URLs from the sitemap (default ${DEFAULT_LIMIT})
  --origin URL         fetch from this origin instead
  -H, --header 'N: v'  a request header sent with every URL; repeat for more
  --json               print every result and finding as JSON
  --strict             exit 1 when there is any warning
  -h, --help           show this help

Exits 0 when every URL was audited (warnings allowed, unless --strict), 1 when one
could not be fetched, the rules file is invalid, or (--strict) there is a warning,
2 on a usage error.
`;

export const audit: Command = {
  name: "audit",
  summary: "fetch URLs from the origin and show what the cache would do with each, and what to fix",
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCli(argv, {
      rules: { type: "string" },
      urls: { type: "string" },
      sitemap: { type: "string" },
      limit: { type: "string" },
      origin: { type: "string" },
      header: { type: "string", short: "H", multiple: true },
      json: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    const sources = [positionals.length > 0, values.urls !== undefined, values.sitemap !== undefined].filter(Boolean).length;
    if (sources !== 1) throw new CliUsageError(sources === 0 ? "name the URLs to audit, a --urls FILE or a --sitemap URL" : "give URLs, --urls FILE or --sitemap URL: one source");
    if (values.limit !== undefined && values.sitemap === undefined) throw new CliUsageError("--limit goes with --sitemap");
    const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new CliUsageError(`--limit must be a whole number of URLs, got ${JSON.stringify(values.limit)}`);
    const origin = values.origin === undefined ? null : absoluteUrl(values.origin, "--origin").href;
    const headers = parseHeaderArgs(values.header ?? []);
    if (!headers.ok) throw new CliUsageError(`-H: ${headers.message}`);
    if (!headers.headers.has("user-agent")) headers.headers.set("user-agent", USER_AGENT);
    // What a browser asks for, so Vary: Accept-Encoding shows the variant most visitors get.
    if (!headers.headers.has("accept-encoding")) headers.headers.set("accept-encoding", "gzip, deflate, br");
    const positional = positionals.map((p) => absoluteUrl(p, "a URL"));

    const loaded = await loadRulesFile(io, values.rules ?? DEFAULT_RULES_FILE);
    if (!reportInvalid(io, loaded)) return EXIT.failed;
    let urls: URL[];
    if (values.sitemap !== undefined) {
      try {
        urls = await sitemapUrls(absoluteUrl(values.sitemap, "--sitemap"), limit);
      } catch (e) {
        io.err(`error: ${(e as Error).message}\n`);
        return EXIT.failed;
      }
    } else if (values.urls !== undefined) {
      const list = await readUrlList(io, values.urls);
      if (list === null) return EXIT.failed;
      urls = list.map((l) => l.url);
    } else urls = positional;

    const results = await inPool(urls, (url) => auditUrl(loaded.rules, url, headers.headers, origin));
    const audited = results.map((r) => ({ ...r, findings: findings(r) }));
    if (values.json) io.out(`${JSON.stringify({ rules: loaded.file, origin, audited: audited.length, summary: summary(audited), results: audited }, null, 2)}\n`);
    else io.out(format(audited));
    const all = audited.flatMap((r) => r.findings);
    if (all.some((f) => f.severity === "error")) return EXIT.failed;
    return values.strict && all.length > 0 ? EXIT.failed : EXIT.ok;
  },
};

type Audited = AuditResult & { findings: Finding[] };

function absoluteUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliUsageError(`${what} must be an absolute URL such as https://www.example.com/, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliUsageError(`${what} must be http or https, got ${JSON.stringify(value)}`);
  return url;
}

/** `work` over every item, PARALLEL at a time, results in the items' order. */
async function inPool<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return out;
}

function summary(audited: readonly Audited[]) {
  const byCode: Record<string, number> = {};
  for (const f of audited.flatMap((r) => r.findings)) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
  return {
    stored: audited.filter((r) => r.storage?.stored).length,
    notStored: audited.filter((r) => r.origin && !r.storage?.stored).length,
    unreachable: audited.filter((r) => !r.origin).length,
    warnings: audited.reduce((n, r) => n + r.findings.filter((f) => f.severity === "warning").length, 0),
    errors: audited.reduce((n, r) => n + r.findings.filter((f) => f.severity === "error").length, 0),
    byCode,
  };
}

// ---- text ----

function format(audited: readonly Audited[]): string {
  const blocks = audited.map(details);
  return `${blocks.join("\n")}\n${table(audited)}`;
}

function details(r: Audited): string {
  const lines = [`GET ${r.url}`];
  const add = (label: string, text: string) => lines.push(`  ${label.padEnd(10)} ${text}`);
  const d = r.decision;
  add("route", d.route ? `${d.route.name} (routes[${d.route.index}])` : "none: passes through uncached");
  if (d.outcome === "bypass") add("bypass", `${d.bypass!.reason}${d.bypass!.detail ? ` (${d.bypass!.detail})` : ""}: straight to the origin, nothing stored`);
  if (d.key) add("key", d.key.url);
  if (r.origin) {
    const h = new Headers(r.origin.headers);
    add("origin", `${r.origin.url} -> ${r.origin.status}${h.get("content-type") ? ` ${h.get("content-type")}` : ""}${r.origin.size === null ? "" : `, ${r.origin.size} bytes`}, ${r.origin.ms} ms`);
    if (h.get("cache-control")) add("", `Cache-Control: ${h.get("cache-control")}`);
    for (const f of r.redirects) add("redirect", `-> ${f.url} ${f.error ?? f.status}`);
  }
  if (r.storage) add("stored", storageText(r.storage));
  for (const note of r.storage?.tierNotes ?? []) add("", note);
  if (r.storage?.stored) add("browser", r.storage.browser === null ? "the origin's Cache-Control" : `${r.storage.browser} s (the rule's ttl.browser)`);
  if (r.vary) add("vary", r.vary.map((v) => `${v.name}: ${v.sent === null ? "(not sent)" : v.sent === v.matched ? v.sent : `${v.sent} -> matched as ${v.matched}`}`).join("; "));
  if (r.origin) add("validators", validatorsText(r));
  for (const f of r.findings) {
    add(f.severity, `${f.code}: ${f.message}`);
    add("", `fix: ${f.fix}`);
  }
  return `${lines.join("\n")}\n`;
}

function storageText(s: Storage): string {
  if (!s.stored) return `no: ${s.reason}`;
  const l = s.lifetime!;
  const windows = [l.staleWhileRevalidate > 0 ? `stale-while-revalidate ${l.staleWhileRevalidate} s` : "", l.staleIfError > 0 ? `stale-if-error ${l.staleIfError} s` : "", l.mustRevalidate ? "never served stale" : ""].filter(Boolean);
  const tiers = [s.edge > 0 ? `edge keeps ${s.edge} s` : "edge: no", s.kv > 0 ? `kv keeps ${s.kv} s` : "kv: no"];
  return `yes, fresh ${l.lifetime} s (${l.source})${l.initialAge > 0 ? `, already ${l.initialAge} s old` : ""}${windows.length ? `, ${windows.join(", ")}` : ""}; ${tiers.join(", ")}`;
}

function validatorsText(r: Audited): string {
  const { etag, lastModified } = r.validators;
  const have = [etag && `ETag ${etag}`, lastModified && `Last-Modified ${lastModified}`].filter(Boolean).join(", ");
  if (!have) return "none (a stale copy is fetched whole again)";
  const c = r.conditional;
  return `${have}; conditional GET -> ${c === null ? "failed" : `${c.status}${c.status === 304 ? (c.accepted ? ", taken" : ", not taken") : ""}`}`;
}

function table(audited: readonly Audited[]): string {
  const rows = audited.map((r) => [
    r.url,
    r.origin ? String(r.origin.status) : "-",
    r.decision.route?.name ?? "(none)",
    r.storage?.stored ? [r.storage.edge > 0 ? `edge ${duration(r.storage.edge)}` : "", r.storage.kv > 0 ? `kv ${duration(r.storage.kv)}` : ""].filter(Boolean).join(", ") : r.storage ? `no: ${r.storage.reason}` : "-",
    r.findings.map((f) => f.code).join(", ") || "-",
  ]);
  const head = ["URL", "status", "route", "stored", "findings"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  const s = summary(audited);
  const codes = Object.entries(s.byCode).map(([c, n]) => `${c} ${n}`).join(", ");
  const total = `${plural(audited.length, "URL")}: ${s.stored} stored, ${s.notStored} not stored${s.unreachable ? `, ${s.unreachable} unreachable` : ""}; ${plural(s.warnings, "warning")}${s.errors ? `, ${plural(s.errors, "error")}` : ""}${codes ? ` (${codes})` : ""}`;
  return `${[line(head), ...rows.map(line)].join("\n")}\n${total}\n`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Seconds as the largest whole unit that fits: 45s, 5m, 3h, 365d. */
function duration(seconds: number): string {
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60]] as const) if (seconds >= size * 2) return `${Math.floor(seconds / size)}${unit}`;
  return `${seconds}s`;
}
