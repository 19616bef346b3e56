/**
 * `edge-cache rules diff OLD NEW --urls FILE`: for a list of URLs, which ones a new
 * rules file would treat differently (route, cache key, TTL, bypass verdict), so a
 * change can be reviewed against real traffic before it is pushed.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseHeaderArgs } from "../explain/decide";
import { diffRequests, type UrlChange } from "../explain/diff";
import { adminToken, callAdmin, parseSite, TOKEN_ENV } from "./admin-client";
import { parseCli } from "./cli-args";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";
import { loadRulesFile, reportInvalid } from "./rules-file";
import { parseMethod } from "./rules-explain";

const USAGE = `Usage: edge-cache rules diff OLD NEW --urls FILE [-H 'Name: value']... [--json]
       edge-cache rules diff OLD NEW --traffic --site URL [-H 'Name: value']... [--json]

For each URL in FILE, or each request the running Worker sampled from real traffic
(--traffic), compares what the Worker would decide under the rules file OLD and under
NEW, and lists the requests whose route, cache key, TTLs or bypass verdict change.
With --urls nothing is sent anywhere.

FILE holds one absolute URL per line, optionally preceded by a method
("HEAD https://www.example.com/"); blank lines and lines starting with # are skipped.

Options:
  --urls FILE          the URLs to compare
  --traffic            instead: the recent requests the Worker at --site sampled
                       (GET /.edge-cache/traffic; method and URL, never a header)
  --site URL           the site, for --traffic; the token is read from ${TOKEN_ENV}
  -H, --header 'N: v'  a request header sent with every URL; repeat for more
  --json               print {"compared", "changed": [...]} as JSON
  -h, --help           show this help

Exits 0 whether or not anything changes, 1 when a file is invalid or unreadable,
2 on a usage error.
`;

export type { Aspect, UrlChange } from "../explain/diff";

export const rulesDiff: Command = {
  name: "rules diff",
  summary: "compare two rules files over a list of URLs (route, key, TTL, bypass)",
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCli(argv, {
      urls: { type: "string" },
      traffic: { type: "boolean", default: false },
      site: { type: "string" },
      header: { type: "string", short: "H", multiple: true },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (positionals.length !== 2) throw new CliUsageError(`expected the OLD and NEW rules files, got ${positionals.length} file${positionals.length === 1 ? "" : "s"}`);
    if (values.traffic && values.urls !== undefined) throw new CliUsageError("--urls and --traffic are two sources of requests: give one");
    if (!values.traffic && values.urls === undefined) throw new CliUsageError("--urls FILE is required: the URLs to compare, one per line");
    if (values.traffic && values.site === undefined) throw new CliUsageError("--traffic needs --site https://www.example.com: the Worker whose sampled traffic to use");
    if (!values.traffic && values.site !== undefined) throw new CliUsageError("--site goes with --traffic");
    const site = values.site === undefined ? null : parseSite(values.site, "--site");
    const headers = parseHeaderArgs(values.header ?? []);
    if (!headers.ok) throw new CliUsageError(`-H: ${headers.message}`);

    const [oldRules, newRules] = await Promise.all(positionals.map((f) => loadRulesFile(io, f)));
    const usable = [reportInvalid(io, oldRules!), reportInvalid(io, newRules!)];
    const list = site ? await sampledTraffic(site) : await readUrlList(io, values.urls!);
    if (!usable.every(Boolean) || list === null) return EXIT.failed;

    const changed = diffRequests(oldRules!.rules!, newRules!.rules!, list, headers.headers);
    if (values.json) {
      io.out(`${JSON.stringify({ old: positionals[0], new: positionals[1], compared: list.length, changed }, null, 2)}\n`);
    } else {
      io.out(formatChanges(changed, list.length));
    }
    return EXIT.ok;
  },
};

/** The requests the Worker sampled, oldest first. */
async function sampledTraffic(site: URL): Promise<{ method: string; url: URL }[]> {
  const answer = await callAdmin(site, adminToken(), "GET", "traffic");
  const requests = Array.isArray(answer.requests) ? (answer.requests as { method?: unknown; url?: unknown }[]) : [];
  return requests.reverse().flatMap((r) => {
    try {
      return typeof r.method === "string" && typeof r.url === "string" ? [{ method: r.method, url: new URL(r.url) }] : [];
    } catch {
      return [];
    }
  });
}

/** Reads the URL list; a bad line is reported with its number, and the whole list refused. */
export async function readUrlList(io: CliIo, file: string): Promise<{ method: string; url: URL }[] | null> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    io.err(`error: ${file}: ${code === "ENOENT" ? "file not found" : (e as Error).message}\n`);
    return null;
  }
  const out: { method: string; url: URL }[] = [];
  const bad: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const parts = line.split(/\s+/);
    const [method, target] = parts.length === 1 ? ["GET", parts[0]!] : [parts[0]!, parts[1]!];
    try {
      const url = new URL(target);
      if (parts.length > 2 || (url.protocol !== "http:" && url.protocol !== "https:")) throw new Error("bad");
      out.push({ method: parseMethod(method), url });
    } catch {
      bad.push(`${file}:${i + 1}: not "[METHOD] URL" with an absolute http(s) URL: ${JSON.stringify(line)}`);
    }
  });
  if (bad.length > 0) {
    for (const b of bad) io.err(`error: ${b}\n`);
    return null;
  }
  if (out.length === 0) {
    io.err(`error: ${file} holds no URLs: write one absolute URL per line\n`);
    return null;
  }
  return out;
}

function formatChanges(changed: readonly UrlChange[], compared: number): string {
  const lines: string[] = [];
  for (const c of changed) {
    lines.push(`${c.method} ${c.url}`);
    for (const [aspect, { old, new: next }] of Object.entries(c.changes)) {
      lines.push(`  ${aspect.padEnd(6)}  ${old}`);
      lines.push(`  ${"".padEnd(6)}  -> ${next}`);
    }
  }
  const counts = (["route", "key", "ttl", "bypass"] as const).map((a) => `${a} ${changed.filter((c) => c.changes[a]).length}`).join(", ");
  lines.push(`${changed.length} of ${compared} URL${compared === 1 ? "" : "s"} would change (${counts})`);
  return `${lines.join("\n")}\n`;
}
