/**
 * `edge-cache purge`: asks the running Worker to purge (POST /.edge-cache/purge).
 *
 * The issue spells it `purge --url U --url https://site`, where `--url` is both a
 * target and the site. We take `--site` for the site, so every `--url` is a target;
 * without `--site`, a single `--url` next to another kind of target (`--tag`,
 * `--prefix`, `--route`, `--all`) can only be the site, so that spelling works too.
 * URL targets without `--site` are ambiguous and refused with the spelling to use.
 */
import { adminToken, callAdmin, parseSite, TOKEN_ENV } from "./admin-client";
import { parseCli } from "./cli-args";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";

const USAGE = `Usage: edge-cache purge --site https://www.example.com TARGETS [--soft] [--json]

Purges from the Worker's cache, in both tiers and every location (the location that
takes it at once, others within about 65 s), and from Cloudflare's zone cache when
the Worker has CF_API_TOKEN and CF_ZONE_ID.

Targets (one kind per purge; repeat a flag for several):
  --url URL        a URL, every variant of it (a path is taken on the site)
  --prefix URL     every URL that starts with this (a path is taken on the site)
  --tag TAG        every entry with this tag (from the rule's "tags", X-Cache-Tag or Surrogate-Key)
  --route NAME     every entry stored by this rule
  --all            everything

Options:
  --site URL       the site the Worker serves. Without it, one --url next to
                   --prefix/--tag/--route/--all is taken as the site
  --soft           mark stale instead of removing: revalidated on next use, and may
                   still be served stale while that happens
  --json           print the Worker's answer as JSON
  -h, --help       show this help

The admin token is read from ${TOKEN_ENV} (the Worker's ADMIN_TOKEN secret).
Exits 0 when purged (warnings allowed), 1 when the purge fails, 2 on a usage error.
`;

type Kind = "urls" | "prefixes" | "tags" | "routes";

export const purge: Command = {
  name: "purge",
  summary: "purge URLs, prefixes, tags, routes or everything from a running Worker",
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCli(argv, {
      site: { type: "string" },
      url: { type: "string", multiple: true },
      prefix: { type: "string", multiple: true },
      tag: { type: "string", multiple: true },
      route: { type: "string", multiple: true },
      all: { type: "boolean", default: false },
      soft: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${JSON.stringify(positionals[0])}: name targets with --url, --prefix, --tag, --route or --all`);
    let urls = values.url ?? [];
    const others = { prefixes: values.prefix ?? [], tags: values.tag ?? [], routes: values.route ?? [] };
    const otherKinds = Object.values(others).some((l) => l.length > 0) || values.all;
    let siteValue = values.site;
    let siteFlag = "--site";
    if (siteValue === undefined) {
      if (urls.length === 1 && otherKinds) {
        siteValue = urls[0]!;
        siteFlag = "--url";
        urls = [];
      } else if (urls.length > 0) {
        throw new CliUsageError(`name the site with --site when purging URLs, e.g. edge-cache purge --site https://www.example.com --url ${urls[0]}`);
      } else {
        throw new CliUsageError("name the site with --site https://www.example.com");
      }
    }
    const site = parseSite(siteValue, siteFlag);

    const given: [Kind | "everything", string[]][] = ([["urls", urls], ["prefixes", others.prefixes], ["tags", others.tags], ["routes", others.routes]] as [Kind, string[]][])
      .filter(([, list]) => list.length > 0);
    if (values.all) given.push(["everything", []]);
    if (given.length === 0) throw new CliUsageError("say what to purge: --url, --prefix, --tag, --route or --all");
    if (given.length > 1) throw new CliUsageError(`one kind of target per purge, got ${given.map(([k]) => flagOf(k)).join(" and ")}: run one purge per kind`);
    const [kind, list] = given[0]!;
    const body: Record<string, unknown> = kind === "everything" ? { everything: true } : { [kind]: kind === "urls" || kind === "prefixes" ? list.map((u) => onSite(u, site, flagOf(kind))) : list };
    if (values.soft) body.soft = true;

    const token = adminToken();
    const answer = await callAdmin(site, token, "POST", "purge", JSON.stringify(body));
    for (const w of (answer.warnings as string[] | undefined) ?? []) io.err(`warning: ${w}\n`);
    io.out(values.json ? `${JSON.stringify(answer, null, 2)}\n` : formatAnswer(answer));
    return EXIT.ok;
  },
};

function flagOf(kind: Kind | "everything"): string {
  switch (kind) {
    case "urls":
      return "--url";
    case "prefixes":
      return "--prefix";
    case "tags":
      return "--tag";
    case "routes":
      return "--route";
    case "everything":
      return "--all";
    default:
      return kind satisfies never;
  }
}

/** An absolute URL as given, or a path taken on the site. */
function onSite(value: string, site: URL, flag: string): string {
  if (value.startsWith("/") && !value.startsWith("//")) return new URL(value, site).href;
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {
    // Reported below.
  }
  throw new CliUsageError(`${flag} ${JSON.stringify(value)} is neither an absolute http(s) URL nor a path starting with /`);
}

function formatAnswer(answer: Record<string, unknown>): string {
  const purged = answer.purged as { kind: string; values?: string[]; soft: boolean };
  const how = purged.soft ? "soft (marked stale)" : "hard";
  const n = purged.values?.length ?? 0;
  const noun: Record<string, [string, string]> = { urls: ["URL", "URLs"], prefixes: ["prefix", "prefixes"], tags: ["tag", "tags"], routes: ["route", "routes"] };
  const what = purged.kind === "everything" ? "everything" : `${n} ${noun[purged.kind]?.[n === 1 ? 0 : 1] ?? purged.kind}`;
  const lines = [`purged ${what}, ${how}, at ${String(answer.at)}`];
  for (const v of purged.values ?? []) lines.push(`  ${v}`);
  const cf = answer.cloudflare as { called: boolean; ok?: boolean; calls?: number; reason?: string; error?: string };
  lines.push(`zone cache: ${!cf.called ? `not called (${cf.reason})` : cf.ok ? `purged (${cf.calls} call${cf.calls === 1 ? "" : "s"})` : `NOT purged: ${cf.error}`}`);
  lines.push(`propagation: ${String(answer.propagation)}`);
  return `${lines.join("\n")}\n`;
}
