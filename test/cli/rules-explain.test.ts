import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../support/cli";

let dir: string;
const RULES = {
  version: 1,
  origin: "https://origin.example.com",
  defaults: { ttl: { edge: 3600, kv: 86400 }, key: { query: { ignore: ["utm_*"], sort: true } }, bypass: { cookies: ["session*"] } },
  routes: [
    { name: "admin", match: { path: "/wp-admin/*" }, bypass: true },
    { name: "api", match: { path: "/api/*", methods: ["GET"] }, origin: "respect", ttl: { edge: 60, kv: 0 } },
    { name: "pages", match: { path: "/*" }, tags: ["html"], key: { headers: ["x-device"] }, status: { "404": 60 } },
  ],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-cache-explain-"));
  await writeFile(join(dir, "rules.json"), JSON.stringify(RULES));
  await writeFile(join(dir, "bad.json"), '{"version": 1, "routes": [{"name": "x"}]}');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("edge-cache rules explain", () => {
  it("explains a cached request: every route tried, the key and its parts, TTLs, tiers", async () => {
    const run = await cli(["rules", "explain", "https://Www.Example.com/blog/x?utm_source=a&b=2&a=1", "-H", "X-Device: mobile", "--rules", "rules.json"], { cwd: dir });
    expect(run).toEqual({
      code: 0,
      stdout: [
        "GET https://www.example.com/blog/x?utm_source=a&b=2&a=1",
        "rules    rules.json",
        "headers  x-device",
        "route    pages (routes[2])",
        "           admin  no: path /blog/x does not match /wp-admin/*",
        "           api    no: path /blog/x does not match /api/*",
        "           pages  matched",
        "outcome  looked up in the cache, stored when the answer allows",
        "key      https://www.example.com/blog/x?a=1&b=2",
        "           query dropped: utm_source",
        "           header x-device: mobile",
        "ttl      edge: the origin's Cache-Control, else 3600 s (origin mode fallback); kv 86400 s; browser the origin's Cache-Control",
        "           per status: 404 60 s",
        "stale    while revalidating 0 s, on origin error 0 s",
        "tiers    edge, kv",
        "tags     html",
        "health   down after 5 failures (connection failures) with no later request answered, for 30 s (doubling to 300 s): stale served at once, else 503",
        "origin   https://origin.example.com/blog/x?a=1&b=2",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("shows each key dimension's value and the header the origin receives it in", async () => {
    await writeFile(
      join(dir, "dims.json"),
      JSON.stringify({ version: 1, routes: [{ name: "pages", match: { path: "/*" }, key: { device: true, country: { groups: { eu: ["DE", "FR"] }, other: "row" }, language: ["en", "fr"] } }] }),
    );
    const iphone = "User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148";
    const run = await cli(["rules", "explain", "https://www.example.com/", "-H", iphone, "-H", "Accept-Language: fr-CH, fr;q=0.9", "--country", "DE", "--rules", "dims.json"], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      ["           device mobile  (sent as cf-device-type: mobile)", "           country eu  (sent as cf-ipcountry: eu)", "           language fr  (sent as accept-language: fr)"].join("\n"),
    );
    const json = JSON.parse((await cli(["rules", "explain", "https://www.example.com/", "--json", "--rules", "dims.json"], { cwd: dir })).stdout);
    expect(json.key.parts.dimensions).toEqual({ device: "desktop", country: "row", language: "en" });
    expect((await cli(["rules", "explain", "https://www.example.com/", "--country", "Germany", "--rules", "dims.json"], { cwd: dir })).code).toBe(2);
  });

  it("shows origin health (or off), the fallback origin, the build header and kv.minHits", async () => {
    await writeFile(
      join(dir, "owner.json"),
      JSON.stringify({
        version: 1,
        defaults: { ttl: { kv: 3600 }, buildHeader: "X-Build-Id", kv: { minHits: 2 } },
        routes: [
          { name: "pages", match: { path: "/p/*" }, originHealth: { failures: 3, coolOff: 10 }, fallbackOrigin: "https://backup.example.com" },
          { name: "rest", match: { path: "/*" }, originHealth: false },
        ],
      }),
    );
    const pages = (await cli(["rules", "explain", "https://www.example.com/p/1", "--rules", "owner.json"], { cwd: dir })).stdout;
    expect(pages).toContain(
      [
        "kv       written on request 2 within the answer's lifetime in one isolate (kv.minHits)",
        "health   down after 3 failures (connection failures) with no later request answered, for 10 s (doubling to 300 s): stale served at once, else 503; meanwhile https://backup.example.com is asked",
        "build    entries of an older x-build-id than the origin's latest are stale",
      ].join("\n"),
    );
    const rest = (await cli(["rules", "explain", "https://www.example.com/x", "--rules", "owner.json"], { cwd: dir })).stdout;
    expect(rest).toContain("health   off: every request waits for the origin\n");
  });

  it("explains a bypass and a request no route takes (the method did not fit)", async () => {
    const bypass = await cli(["rules", "explain", "https://www.example.com/blog/x", "-H", "Cookie: a=1; session_id=2", "--rules", "rules.json"], { cwd: dir });
    expect(bypass.code).toBe(0);
    expect(bypass.stdout).toContain("outcome  bypass: cookie (session_id), straight to the origin, nothing stored\n");
    const noRoute = await cli(["rules", "explain", "https://www.example.com/api/x", "--method", "post", "--rules", "rules.json"], { cwd: dir });
    expect(noRoute.stdout).toContain("           api    no: method POST not in GET\n");
    expect(noRoute.stdout).toContain("outcome  bypass: method (POST), straight to the origin, nothing stored\n");
  });

  it("prints the same decision as JSON with --json (the explain endpoint's pure part)", async () => {
    const run = await cli(["rules", "explain", "https://www.example.com/api/x", "--rules", "rules.json", "--json"], { cwd: dir });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      rules: "rules.json",
      request: { url: "https://www.example.com/api/x", method: "GET", headerNames: [] },
      route: { name: "api", index: 1 },
      tried: [
        { name: "admin", matched: false, reason: "path /api/x does not match /wp-admin/*" },
        { name: "api", matched: true, reason: "matched" },
      ],
      outcome: "cache",
      bypass: null,
      key: { key: "https://www.example.com/api/x", url: "https://www.example.com/api/x", parts: { scheme: "https", host: "www.example.com", path: "/api/x", query: [], dropped: [], headers: [], cookies: [] } },
      originUrl: "https://origin.example.com/api/x",
      settings: {
        ttl: { edge: 60, kv: 0, browser: null },
        origin: "respect",
        status: {},
        staleWhileRevalidate: 0,
        staleIfError: 0,
        heuristic: true,
        clientCacheControl: "ignore",
        stripSetCookie: false,
        cacheAuthorized: false,
        originTimeoutMs: 30000,
        maxVariants: 16,
        maxObjectSize: { edge: null },
        log: "all",
        tags: [],
        shield: false,
        originHealth: { failures: 5, coolOffMs: 30000 },
        fallbackOrigin: null,
        buildHeader: null,
        kv: { minHits: 1 },
      },
      tiers: { edge: true, kv: false },
    });
  });

  it("uses config/routes.json by default", async () => {
    const run = await cli(["rules", "explain", "https://www.example.com/assets/app.js"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^GET https:\/\/www.example.com\/assets\/app.js\nrules    config\/routes.json\nroute    assets \(routes\[2\]\)\n/);
  });

  it("exits 1 with the problems when the rules file is invalid", async () => {
    const run = await cli(["rules", "explain", "https://www.example.com/", "--rules", "bad.json"], { cwd: dir });
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr: 'error  $.routes[0].match  missing required field "match"  (hint: add "match": { "path": "/..." }; { } matches every request)\nbad.json: invalid (1 error); run "edge-cache rules check bad.json" for details\n',
    });
  });

  it.each([
    [["rules", "explain"], "error: name the URL to explain\n"],
    [["rules", "explain", "/page"], 'error: not an absolute URL: "/page" (rules may match on the host: write it whole, e.g. https://www.example.com/page)\n'],
    [["rules", "explain", "ftp://x/"], "error: the URL must be http or https, got ftp:\n"],
    [["rules", "explain", "https://x/", "-H", "nocolon"], 'error: -H: not a header: "nocolon"; write it as "Name: value", e.g. "Cookie: session=1"\n'],
    [["rules", "explain", "https://x/", "--method", "G T"], 'error: --method must be a method name such as GET or HEAD, got "G T"\n'],
    [["rules", "explain", "https://x/", "--bogus"], "error: Unknown option '--bogus'\n"],
  ])("exits 2 on a usage error: %j", async (args, start) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.startsWith(`${start}\nUsage: edge-cache rules explain URL`)).toBe(true);
  });

  it("--help shows the usage and exits 0", async () => {
    const run = await cli(["rules", "explain", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: edge-cache rules explain URL \[-H 'Name: value'\]\.\.\. \[--rules FILE\] \[--method M\] \[--country CC\] \[--json\]\n/);
  });
});
