import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cli, ROOT } from "../support/cli";

// `wrangler` for these tests: records each call (argv and stdin) and answers as STUB_LIST says.
const STUB = `#!/usr/bin/env node
const fs = require("node:fs");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", finish);
function finish() {
  const args = process.argv.slice(2);
  fs.appendFileSync(process.env.STUB_LOG, JSON.stringify({ args, input }) + "\\n");
  if (args[1] === "list") {
    const mode = process.env.STUB_LIST;
    if (mode === "offline") {
      process.stderr.write("✘ [ERROR] A request to the Cloudflare API (/accounts/x/workers/scripts/edge-cache/secrets) failed.\\n\\n  fetch failed\\n");
      process.exit(1);
    }
    if (mode === "no-worker") {
      process.stderr.write('✘ [ERROR] Worker "edge-cache" not found.\\n\\nIf this is a new Worker, run \`wrangler deploy\` first to create it.\\n');
      process.exit(1);
    }
    process.stdout.write(JSON.stringify(JSON.parse(mode).map((name) => ({ name, type: "secret_text" })), null, "  ") + "\\n");
  }
  if (args[1] === "put") {
    if (process.env.STUB_PUT === "fail") {
      process.stderr.write("✘ [ERROR] Authentication error [code: 10000]\\n");
      process.exit(1);
    }
    process.stdout.write('🌀 Creating the secret for the Worker "edge-cache"\\n✨ Success! Uploaded secret ADMIN_TOKEN\\n');
  }
}
`;

let dir: string;
let config: string;
let log: string;
let original: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-cache-setup-"));
  await writeFile(join(dir, "wrangler-stub.cjs"), STUB);
  await chmod(join(dir, "wrangler-stub.cjs"), 0o755);
  // The project's own file, its entry made absolute so the copy builds from here.
  original = (await readFile(join(ROOT, "wrangler.jsonc"), "utf8")).replace('"main": "src/index.ts"', `"main": ${JSON.stringify(join(ROOT, "src/index.ts"))}`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  config = join(dir, "wrangler.jsonc");
  log = join(dir, `calls-${Math.random().toString(36).slice(2)}.jsonl`);
  await writeFile(config, original);
  await writeFile(log, "");
});

function setup(args: string[], env: Record<string, string> = {}) {
  return cli(["setup", ...args, "--config", config], { cwd: dir, env: { EDGE_CACHE_WRANGLER: join(dir, "wrangler-stub.cjs"), STUB_LOG: log, STUB_LIST: "[]", ...env } });
}
async function calls(): Promise<{ args: string[]; input: string }[]> {
  return (await readFile(log, "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** `wrangler deploy --dry-run` on a config: builds the Worker and checks the config, offline. */
function dryRun(file: string): Promise<{ code: number; output: string }> {
  const wrangler = createRequire(import.meta.url).resolve("wrangler");
  return new Promise((done) => {
    execFile(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", join(dir, "out"), "--config", file], { env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" } }, (e, stdout, stderr) =>
      done({ code: e ? Number(e.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

const ROUTE_LINE = '  "routes": [{ "pattern": "www.example.com/*", "zone_name": "example.com" }],';

describe("edge-cache setup", () => {
  it("writes the route in place of the commented example, stores a new token through wrangler on stdin, prints it once and says what to run", async () => {
    const run = await setup(["--zone", "example.com", "--route", "www.example.com/*"], { STUB_LIST: "no-worker" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // One line changed, every comment kept.
    const written = await readFile(config, "utf8");
    expect(written).toBe(original.replace('  // "routes": [{ "pattern": "example.com/*", "zone_name": "example.com" }],', ROUTE_LINE));
    const token = /shown this once[^\n]*\n\n {2}(\S+)\n/.exec(run.stdout)?.[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(run.stdout.split(token!).length).toBe(2);
    expect(run.stdout).toContain("wrangler.jsonc: route www.example.com/* (zone example.com) written\n");
    expect(run.stdout).toContain("Next: npm run deploy\n");
    expect(await calls()).toEqual([
      { args: ["secret", "list", "--format", "json", "--config", config], input: "" },
      { args: ["secret", "put", "ADMIN_TOKEN", "--config", config], input: token },
    ]);
    // What it wrote is a config wrangler deploys: the route, and KV with no id (provisioned on deploy).
    const built = await dryRun(config);
    expect(built.output).toContain("--dry-run: exiting now.");
    expect(built.output).toContain("env.CACHE_KV");
    expect(built.code).toBe(0);
  });

  it("run again, changes nothing: the same route is kept, an existing ADMIN_TOKEN is kept and never put", async () => {
    await writeFile(config, original.replace(/^ {2}\/\/ "routes".*$/m, ROUTE_LINE));
    const before = await readFile(config, "utf8");
    const run = await setup(["--zone", "example.com", "--route", "www.example.com/*"], { STUB_LIST: '["CF_API_TOKEN", "ADMIN_TOKEN"]' });
    expect(run.code).toBe(0);
    expect(await readFile(config, "utf8")).toBe(before);
    expect(run.stdout).toContain("route www.example.com/* (zone example.com) already set");
    expect(run.stdout).toContain('ADMIN_TOKEN: already set on the Worker "edge-cache"; kept (run setup with --force');
    expect(run.stdout).not.toContain("shown this once");
    expect((await calls()).map((c) => c.args[1])).toEqual(["list"]);
  });

  it("refuses to replace a different route without --force, before calling wrangler; with --force replaces it and a set secret", async () => {
    await writeFile(config, original.replace(/^ {2}\/\/ "routes".*$/m, '  "routes": [{ "pattern": "old.example.org/*", "zone_name": "example.org" }],'));
    const before = await readFile(config, "utf8");
    const refused = await setup(["--zone", "example.com"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already routes {"pattern":"old.example.org/*","zone_name":"example.org"}; run setup with --force');
    expect(await readFile(config, "utf8")).toBe(before);
    expect(await calls()).toEqual([]);

    const forced = await setup(["--zone", "example.com", "--force"], { STUB_LIST: '["ADMIN_TOKEN"]' });
    expect(forced.code).toBe(0);
    expect(await readFile(config, "utf8")).toBe(before.replace('"old.example.org/*", "zone_name": "example.org"', '"example.com/*", "zone_name": "example.com"'));
    expect(forced.stdout).toContain('replacing {"pattern":"old.example.org/*","zone_name":"example.org"}');
    expect((await calls()).map((c) => c.args[1])).toEqual(["put"]);
    expect(forced.stdout).toContain("shown this once");
  });

  it("offline, says the secret could not be checked and what to do, and changes nothing", async () => {
    const run = await setup(["--zone", "example.com"], { STUB_LIST: "offline" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('could not check whether the Worker "edge-cache" already has an ADMIN_TOKEN: "wrangler secret list" failed: A request to the Cloudflare API');
    expect(run.stderr).toContain('log in with "npx wrangler login"');
    expect(run.stderr).toContain("--skip-secret");
    expect(run.stderr).toContain("Nothing was changed.");
    expect(await readFile(config, "utf8")).toBe(original);
  });

  it("with the real wrangler and no login, fails the same clear way (no stub, nothing reaches Cloudflare)", async () => {
    const home = join(dir, "home");
    const run = await cli(["setup", "--zone", "example.com", "--config", config], {
      cwd: dir,
      env: { HOME: home, XDG_CONFIG_HOME: home, CLOUDFLARE_API_TOKEN: undefined, CLOUDFLARE_ACCOUNT_ID: undefined, CLOUDFLARE_API_KEY: undefined, CF_API_TOKEN: undefined },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"wrangler secret list" failed: ');
    expect(run.stderr).toContain("CLOUDFLARE_API_TOKEN");
    expect(await readFile(config, "utf8")).toBe(original);
  });

  it("--skip-secret writes only the route and never calls wrangler; a failed put prints no token", async () => {
    const skipped = await setup(["--zone", "example.com", "--skip-secret"], { STUB_LIST: "offline" });
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain('ADMIN_TOKEN: skipped (--skip-secret); before the admin API works, run "npx wrangler secret put ADMIN_TOKEN"');
    expect(await calls()).toEqual([]);
    expect(await readFile(config, "utf8")).toContain('  "routes": [{ "pattern": "example.com/*", "zone_name": "example.com" }],\n');

    await writeFile(config, original);
    const failed = await setup(["--zone", "example.com"], { STUB_PUT: "fail" });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('ADMIN_TOKEN was not stored: "wrangler secret put" failed: Authentication error [code: 10000]');
    expect(failed.stderr).toContain("The route is written (setup keeps it when run again).");
    expect(failed.stdout).not.toContain("shown this once");
  });

  it("refuses a zone or route it cannot deploy, with the spelling to use", async () => {
    const cases: [string[], string][] = [
      [[], "--zone is required"],
      [["--zone", "https://example.com"], "--zone is the domain alone, e.g. --zone example.com"],
      [["--zone", "example.com", "--route", "https://www.example.com/*"], "--route is written without the scheme, e.g. --route www.example.com/*"],
      [["--zone", "example.com", "--route", "www.example.com"], "--route needs a path, e.g. --route www.example.com/*"],
      [["--zone", "example.com", "--route", "example.org/*"], "--route example.org/* is not on the zone example.com"],
    ];
    for (const [args, message] of cases) {
      const run = await setup(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain(message);
    }
    expect(await readFile(config, "utf8")).toBe(original);
    expect(await calls()).toEqual([]);
  });
});
