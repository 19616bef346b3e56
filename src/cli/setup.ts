/**
 * `edge-cache setup --zone example.com [--route PATTERN]...`: everything a first deploy
 * needs that is not in the repository. It writes the route into wrangler.jsonc (one
 * member edited in place, comments kept) and stores a new ADMIN_TOKEN as a Worker
 * secret (`wrangler secret put`, the token on stdin, never in argv or a file). The KV
 * namespace and the Durable Objects need nothing: the deploy creates them.
 *
 * Idempotent: a route already set as asked and a secret already present are kept;
 * a different route, or a secret, is replaced only with --force. Everything is
 * checked before anything is changed.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { TOKEN_ENV } from "./admin-client";
import { parseCli } from "./cli-args";
import { CliUsageError, EXIT, type CliIo, type Command } from "./command";
import { parseJsonc, setRootMember } from "./jsonc-edit";
import { runWrangler, WRANGLER_ENV, wranglerProblem } from "./wrangler-run";

const SECRET = "ADMIN_TOKEN";

const USAGE = `Usage: edge-cache setup --zone ZONE [--route PATTERN]... [--config FILE] [--force] [--skip-secret]

Prepares a first deploy: writes the Worker's route into wrangler.jsonc (comments
kept) and stores a new, random ${SECRET} as a secret of the Worker with
"wrangler secret put". The token is printed once. Then run "npm run deploy": it
creates the KV namespace and the Durable Objects itself.

Run it again at any time: what is already set as asked is kept. A different route
in wrangler.jsonc, or an existing ${SECRET}, is replaced only with --force.

Options:
  --zone ZONE          your domain as Cloudflare knows it (example.com)
  --route PATTERN      the route the Worker serves (default: ZONE/*); repeat for
                       more, e.g. --route example.com/* --route www.example.com/*
  --config FILE        the wrangler configuration (default: wrangler.jsonc)
  --force              replace a different route, and generate a new ${SECRET}
                       even when one is set (the old token stops working)
  --skip-secret        only write the route (for instance offline); put the secret
                       later with "npx wrangler secret put ${SECRET}"
  -h, --help           show this help

Needs "npx wrangler login" done once (or CLOUDFLARE_API_TOKEN) for the secret.
${WRANGLER_ENV} names another wrangler program to run (tests use a stub).

Exits 0 when set up, 1 when something was refused or failed (the message says
what to do), 2 on a usage error.
`;

interface Route {
  pattern: string;
  zone_name: string;
}

export const setup: Command = {
  name: "setup",
  summary: "write the route into wrangler.jsonc and store a new ADMIN_TOKEN secret",
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCli(argv, {
      zone: { type: "string" },
      route: { type: "string", multiple: true },
      config: { type: "string" },
      force: { type: "boolean", default: false },
      "skip-secret": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${JSON.stringify(positionals[0])}; name the zone with --zone`);
    if (values.zone === undefined) throw new CliUsageError("--zone is required: your domain on Cloudflare, e.g. --zone example.com");
    const zone = parseZone(values.zone);
    const routes = (values.route ?? [`${zone}/*`]).map((r) => parseRoute(r, zone));
    const force = values.force ?? false;
    const file = values.config ?? "wrangler.jsonc";
    const path = resolve(io.cwd, file);

    // 1. Read and check everything; nothing is changed until all of it is fine.
    const config = await readConfig(io, file, path);
    if (!config) return EXIT.failed;
    const routePlan = planRoutes(config.json, routes, force);
    if ("refused" in routePlan) {
      io.err(`error: ${file}: ${routePlan.refused}\n`);
      return EXIT.failed;
    }
    const worker = typeof config.json.name === "string" ? config.json.name : null;
    if (worker === null) {
      io.err(`error: ${file} has no "name": add "name": "edge-cache" (the Worker's name) and run setup again\n`);
      return EXIT.failed;
    }
    let secretSet = false;
    if (!values["skip-secret"] && !force) {
      const listed = await secretExists(path);
      if ("problem" in listed) {
        io.err(
          `error: could not check whether the Worker "${worker}" already has an ${SECRET}: "wrangler secret list" failed: ${listed.problem}\n` +
            `setup needs Cloudflare's API for the secret: check your connection, log in with "npx wrangler login" (or set CLOUDFLARE_API_TOKEN), and run setup again.\n` +
            `Or run setup with --skip-secret to write only the route now, and later "npx wrangler secret put ${SECRET}".\n` +
            `Nothing was changed.\n`,
        );
        return EXIT.failed;
      }
      secretSet = listed.exists;
    }

    // 2. The route.
    const shown = routes.map((r) => `${r.pattern} (zone ${r.zone_name})`).join(", ");
    if (routePlan.write) {
      await writeFile(path, setRootMember(config.text, "routes", routesJson(routes)));
      io.out(`${file}: route ${shown} written${routePlan.replaced ? `, replacing ${routePlan.replaced}` : ""}\n`);
    } else io.out(`${file}: route ${shown} already set\n`);

    // 3. The secret.
    let token: string | null = null;
    if (values["skip-secret"]) {
      io.out(`${SECRET}: skipped (--skip-secret); before the admin API works, run "npx wrangler secret put ${SECRET}" with a random value of at least 32 characters\n`);
    } else if (secretSet) {
      io.out(`${SECRET}: already set on the Worker "${worker}"; kept (run setup with --force to replace it: the old token then stops working)\n`);
    } else {
      // 32 random bytes: far past the Worker's 32-character minimum (admin/token-strength.ts).
      token = randomBytes(32).toString("base64url");
      const put = await runWrangler(["secret", "put", SECRET, "--config", path], token);
      if (put.code !== 0) {
        const kept = routePlan.write ? `The route is written (setup keeps it when run again). ` : "";
        io.err(
          `error: ${SECRET} was not stored: "wrangler secret put" failed: ${wranglerProblem(put)}\n` +
            `${kept}Check your connection and "npx wrangler login" (or CLOUDFLARE_API_TOKEN), then run setup again.\n`,
        );
        return EXIT.failed;
      }
      const draft = /Creating new Worker/i.test(put.stdout) ? ` (wrangler created an empty Worker "${worker}" to hold it; the deploy replaces it)` : "";
      io.out(`${SECRET}: stored as a secret of the Worker "${worker}"${draft}\n`);
    }

    if (token) {
      io.out(
        `\nYour admin token, shown this once (a secret cannot be read back):\n\n  ${token}\n\n` +
          `Keep it in a password manager. The edge-cache commands read it from ${TOKEN_ENV}:\n  export ${TOKEN_ENV}=<the token>\n`,
      );
    }
    io.out(`\nNext: npm run deploy\n  (the first deploy creates the KV namespace and the Durable Objects; then try https://${hostOf(routes[0]!.pattern, zone)}/)\n`);
    return EXIT.ok;
  },
};

function parseZone(value: string): string {
  const zone = value.trim().toLowerCase().replace(/\.$/, "");
  if (/^https?:\/\//.test(zone) || zone.includes("/")) throw new CliUsageError(`--zone is the domain alone, e.g. --zone example.com, got ${JSON.stringify(value)}`);
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(zone)) {
    throw new CliUsageError(`--zone must be a domain name such as example.com, got ${JSON.stringify(value)}`);
  }
  return zone;
}

/** A Workers route pattern on the zone (host/path, `*` allowed at the host's start and the path's end). */
function parseRoute(value: string, zone: string): Route {
  const pattern = value.trim();
  if (/^[a-z]+:\/\//i.test(pattern)) throw new CliUsageError(`--route is written without the scheme, e.g. --route ${pattern.replace(/^[a-z]+:\/\//i, "")}`);
  const slash = pattern.indexOf("/");
  if (slash < 0) throw new CliUsageError(`--route needs a path, e.g. --route ${pattern}/* (every path)`);
  const host = pattern.slice(0, slash).toLowerCase().replace(/^\*\.?/, "");
  // Cloudflare refuses a route whose host is not on the zone, at deploy time; say it now.
  if (host !== zone && !host.endsWith(`.${zone}`) && !(host === "" && pattern.startsWith("*"))) {
    throw new CliUsageError(`--route ${pattern} is not on the zone ${zone}: its host must be ${zone} or a subdomain of it`);
  }
  return { pattern, zone_name: zone };
}

function hostOf(pattern: string, zone: string): string {
  const host = pattern.slice(0, pattern.indexOf("/")).replace(/^\*\.?/, "");
  return host === "" ? zone : host;
}

async function readConfig(io: CliIo, file: string, path: string): Promise<{ text: string; json: Record<string, unknown> } | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const missing = (e as { code?: string }).code === "ENOENT";
    io.err(`error: ${file}: ${missing ? "file not found; run setup in the edge-cache folder, or name the file with --config FILE" : (e as Error).message}\n`);
    return null;
  }
  try {
    const json = parseJsonc(text);
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new SyntaxError("not an object");
    return { text, json: json as Record<string, unknown> };
  } catch (e) {
    io.err(`error: ${file} is not valid JSONC (${(e as Error).message}); fix it (or restore it with "git checkout ${file}") and run setup again\n`);
    return null;
  }
}

/** Whether the routes must be written, or why they may not be. */
function planRoutes(config: Record<string, unknown>, wanted: readonly Route[], force: boolean): { write: boolean; replaced?: string } | { refused: string } {
  if (config.route !== undefined) {
    return { refused: `it sets "route"; setup writes "routes": remove the "route" member (or move it into "routes") and run setup again` };
  }
  const existing = Array.isArray(config.routes) ? config.routes : config.routes === undefined ? [] : null;
  if (existing === null) return { refused: `"routes" is not a list; fix it by hand, or run setup with --force to replace it` };
  const text = (r: unknown) => (typeof r === "string" ? r : JSON.stringify(r));
  const same = (a: unknown, b: Route) => typeof a === "object" && a !== null && (a as Route).pattern === b.pattern && (a as Route).zone_name === b.zone_name && Object.keys(a).length === 2;
  if (existing.length === wanted.length && wanted.every((w, i) => same(existing[i], w))) return { write: false };
  if (existing.length === 0) return { write: true };
  const replaced = existing.map(text).join(", ");
  if (!force) return { refused: `it already routes ${replaced}; run setup with --force to replace that with what you asked for, or edit "routes" by hand` };
  return { write: true, replaced };
}

function routesJson(routes: readonly Route[]): string {
  return `[${routes.map((r) => `{ "pattern": ${JSON.stringify(r.pattern)}, "zone_name": ${JSON.stringify(r.zone_name)} }`).join(", ")}]`;
}

/** Whether the Worker has the secret; a Worker not yet deployed has none. */
async function secretExists(configPath: string): Promise<{ exists: boolean } | { problem: string }> {
  const listed = await runWrangler(["secret", "list", "--format", "json", "--config", configPath]);
  if (listed.code !== 0) {
    // wrangler's words for a Worker that does not exist yet: the first setup, before any deploy.
    if (/Worker "[^"]*"[^\n]* not found/.test(listed.stderr + listed.stdout)) return { exists: false };
    return { problem: wranglerProblem(listed) };
  }
  try {
    const names = (JSON.parse(listed.stdout.slice(listed.stdout.indexOf("["))) as { name?: unknown }[]).map((s) => s.name);
    return { exists: names.includes(SECRET) };
  } catch {
    return { problem: `its answer was not the JSON list expected: ${JSON.stringify(listed.stdout.slice(0, 200))}` };
  }
}
