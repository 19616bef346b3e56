import { describe, expect, it } from "vitest";
import { storageKey } from "../../src/tiers/two-tier";
import { adminHarness } from "../support/admin-harness";
import { origin } from "../support/origin";

const SETTINGS = {
  ttl: { edge: 600, kv: 3600, browser: null },
  origin: "fallback",
  status: {},
  staleWhileRevalidate: 0,
  staleIfError: 0,
  heuristic: false,
  clientCacheControl: "ignore",
  stripSetCookie: false,
  cacheAuthorized: false,
  originTimeoutMs: 30000,
  maxVariants: 16,
  maxObjectSize: { edge: null },
  log: "all",
  tags: ["html"],
  shield: false,
  originHealth: { failures: 5, coolOffMs: 30000 },
  fallbackOrigin: null,
  buildHeader: null,
  kv: { minHits: 1 },
};

function setup() {
  const id = crypto.randomUUID().slice(0, 8);
  const h = adminHarness({
    defaults: { ttl: { edge: 600, kv: 3600 }, key: { query: { ignore: ["utm_*"], sort: true } }, bypass: { cookies: ["session*"] } },
    routes: [
      { name: "admin", match: { path: "/wp-admin/*" }, bypass: true },
      { name: "api", match: { path: "/api/*", methods: ["GET"] } },
      { name: "pages", match: { path: `/x${id}/*` }, tags: ["html"] },
    ],
  });
  return { h, id, path: `/x${id}/page` };
}

const TRIED_TO_PAGES = (path: string) => [
  { name: "admin", matched: false, reason: `path ${path} does not match /wp-admin/*` },
  { name: "api", matched: false, reason: `path ${path} does not match /api/*` },
  { name: "pages", matched: true, reason: "matched" },
];

describe("GET /.edge-cache/explain: the whole decision and the live state", () => {
  it("a stored, Vary'd entry: route, key, TTLs, tiers, and what each tier holds, then after a soft purge", async () => {
    const { h, id, path } = setup();
    await origin.script(path, { body: "hi", headers: { "x-cache-tag": `p-${id}`, vary: "Accept-Language" } });
    const t0 = h.clock.now();
    await h.get(`${path}?b=2&a=1`, { headers: { "accept-language": "en" } });
    h.clock.advance(5);

    const query = `url=${encodeURIComponent(`${path}?utm_source=mail&b=2&a=1`)}&h=${encodeURIComponent("Accept-Language: en")}`;
    const res = await h.explain(query);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");

    const key = `https://site.test${path}?a=1&b=2`;
    const primary = await storageKey(key, "site.test");
    const entry = {
      present: true,
      status: 200,
      storedAt: new Date(t0).toISOString(),
      requestedAt: new Date(t0).toISOString(),
      age: 5,
      ttl: 595,
      freshness: "fresh",
      route: "pages",
      tags: ["html", `p-${id}`],
      size: 2,
      vary: ["accept-language"],
      purged: null,
    };
    const expected = {
      request: { url: `https://site.test${path}?utm_source=mail&b=2&a=1`, method: "GET", headerNames: ["accept-language"] },
      route: { name: "pages", index: 2 },
      tried: TRIED_TO_PAGES(path),
      outcome: "cache",
      bypass: null,
      key: {
        key,
        url: key,
        parts: { scheme: "https", host: "site.test", path, query: ["a=1", "b=2"], dropped: ["utm_source"], headers: [], cookies: [] },
      },
      originUrl: `${origin.url}${path}?a=1&b=2`,
      settings: SETTINGS,
      tiers: { edge: true, kv: true },
      rules: { source: "options", version: expect.stringMatching(/^[0-9a-f]{16}$/) },
      state: { storage: { hash: primary.hash, kvKey: `e:${primary.hash}` }, edge: entry, kv: entry },
    };
    expect(res.json).toEqual(expected);

    // Another language: the index is there, that variant is not.
    const fr = await h.explain(`url=${encodeURIComponent(`${path}?a=1&b=2`)}&h=Accept-Language:fr`);
    expect((fr.json as { state: unknown }).state).toEqual({ storage: { hash: primary.hash, kvKey: `e:${primary.hash}` }, edge: { present: false }, kv: { present: false } });

    await h.purge({ tags: [`p-${id}`], soft: true });
    h.clock.advance(1);
    const after = await h.explain(query);
    // What the next request does with it: a soft purge leaves no freshness (it revalidates).
    const purged = { ...entry, age: 6, ttl: -6, freshness: "stale", purged: "soft" };
    expect(after.json).toEqual({ ...expected, state: { ...expected.state, edge: purged, kv: purged } });
  });

  it("a bypass: the reason and what triggered it, no key, no state", async () => {
    const { h, path } = setup();
    const res = await h.explain(`url=${encodeURIComponent(`https://site.test${path}`)}&h=${encodeURIComponent("Cookie: theme=dark; session_id=1")}`);
    expect(res.json).toEqual({
      request: { url: `https://site.test${path}`, method: "GET", headerNames: ["cookie"] },
      route: { name: "pages", index: 2 },
      tried: TRIED_TO_PAGES(path),
      outcome: "bypass",
      bypass: { reason: "cookie", detail: "session_id" },
      key: null,
      originUrl: `${origin.url}${path}`,
      settings: SETTINGS,
      tiers: null,
      rules: { source: "options", version: expect.stringMatching(/^[0-9a-f]{16}$/) },
      state: null,
    });
  });

  it("no route: why each one did not match, including the method", async () => {
    const { h } = setup();
    const res = await h.explain(`url=${encodeURIComponent("https://site.test/api/x")}&method=POST`);
    expect(res.json).toEqual({
      request: { url: "https://site.test/api/x", method: "POST", headerNames: [] },
      route: null,
      tried: [
        { name: "admin", matched: false, reason: "path /api/x does not match /wp-admin/*" },
        { name: "api", matched: false, reason: "method POST not in GET" },
        { name: "pages", matched: false, reason: expect.stringMatching(/^path \/api\/x does not match \/x[0-9a-f]{8}\/\*$/) },
      ],
      outcome: "no-rule",
      bypass: null,
      key: null,
      originUrl: `${origin.url}/api/x`,
      settings: null,
      tiers: null,
      rules: { source: "options", version: expect.stringMatching(/^[0-9a-f]{16}$/) },
      state: null,
    });
  });

  it("a route that stores in one tier says the other is skipped", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const h = adminHarness({ routes: [{ name: "edge", match: { path: "/*" }, ttl: { edge: 60, kv: 0 } }] });
    const res = await h.explain(`url=/e${id}`);
    expect((res.json as { state: { kv: unknown; edge: unknown } }).state.kv).toEqual({ present: false, skipped: "the route does not store in kv" });
    expect((res.json as { state: { kv: unknown; edge: unknown } }).state.edge).toEqual({ present: false });
  });

  it("shows each key dimension's value, with the client's country given as country=", async () => {
    const h = adminHarness({ routes: [{ name: "pages", match: { path: "/*" }, key: { device: true, country: { groups: { eu: ["DE"] } }, language: ["en", "de"] } }] });
    const ua = encodeURIComponent("User-Agent: Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) Mobile/15E148");
    const res = await h.explain(`url=/page&h=${ua}&h=${encodeURIComponent("Accept-Language: de-DE")}&country=DE`);
    expect((res.json as { key: { parts: { dimensions: unknown } } }).key.parts.dimensions).toEqual({ device: "tablet", country: "eu", language: "de" });
    const unknown = await h.explain("url=/page");
    expect((unknown.json as { key: { parts: { dimensions: unknown } } }).key.parts.dimensions).toEqual({ device: "desktop", country: "XX", language: "en" });
    expect((await h.explain("url=/page&country=Germany")).status).toBe(400);
  });

  const bad: [string, string, string][] = [
    ["no url", "", "say which request to explain: ?url=https://site.test/page (or ?url=/page), with request headers as &h=Name:value"],
    ["not a URL", "url=nope", '"url" is not a URL: "nope"; write an absolute URL or a path starting with /'],
    ["not http", "url=ftp://x/y", '"url" must be http or https, got ftp:'],
    ["a header without a colon", "url=/a&h=Cookie", '"h": not a header: "Cookie"; write it as "Name: value", e.g. "Cookie: session=1"'],
    ["an unencoded query", "url=/a?x=1&y=2", "unknown parameter \"y\": explain takes url, h, method and country; percent-encode the URL you explain, e.g. curl -G --data-urlencode 'url=https://site.test/page?a=1&b=2'"],
    ["a bad method", "url=/a&method=G%20T", '"method" must be a method name such as GET or HEAD, got "G T"'],
  ];
  for (const [name, query, message] of bad) {
    it(`refuses ${name}, saying what to write`, async () => {
      const { h } = setup();
      const res = await h.explain(query);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: "invalid-explain", message });
    });
  }
});
