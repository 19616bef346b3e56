import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvName } from "../../src/tiers/kv";
import { storageKey } from "../../src/tiers/two-tier";
import { adminHarness } from "../support/admin-harness";
import { SITE } from "../support/harness";
import { origin } from "../support/origin";

type TierName = "edge" | "kv";

/** KV-only routes have no edge TTL to fall back on: the origin gives the lifetime. */
const MAX_AGE = { "cache-control": "max-age=600" };

/** A Worker whose one route stores in one tier only, under a name and paths no other test uses. */
function setup(tier: TierName, extra: { staleWhileRevalidate?: number } = {}) {
  const id = crypto.randomUUID().slice(0, 8);
  const base = `/p${id}`;
  const route = `r-${id}`;
  const h = adminHarness({
    routes: [
      {
        name: route,
        match: { path: `${base}/*` },
        ttl: tier === "edge" ? { edge: 600, kv: 0 } : { edge: 0, kv: 3600 },
        tags: [`rule-${id}`],
        key: { query: { ignore: ["utm_*"] } },
        ...extra,
      },
    ],
  });
  return { h, id, base, route };
}

async function storeAndHit(h: ReturnType<typeof adminHarness>, path: string, tier: TierName) {
  const miss = await h.get(path);
  expect(miss.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
  const hit = await h.get(path);
  expect(hit.cacheStatus).toMatch(new RegExp(`^edge-cache; hit; ttl=\\d+; detail=${tier}$`));
}

interface Kind {
  name: string;
  /** Origin headers for the purged path. */
  headers?: (id: string) => Record<string, string>;
  body: (c: { id: string; base: string; route: string; path: string }) => Record<string, unknown>;
  /** What the answer says was purged. */
  purged: (c: { id: string; base: string; route: string; path: string }) => Record<string, unknown>;
  /** The bystander survives (not for route purges, which take the whole route). */
  bystander: boolean;
}

const KINDS: Kind[] = [
  {
    name: "url",
    body: ({ path }) => ({ urls: [`${SITE}${path}`] }),
    purged: ({ path }) => ({ kind: "urls", values: [`${SITE}${path}`], soft: false }),
    bystander: true,
  },
  {
    name: "url given as a path, with an ignored parameter",
    body: ({ path }) => ({ urls: [`${path}?utm_source=newsletter`] }),
    purged: ({ path }) => ({ kind: "urls", values: [`${SITE}${path}`], soft: false }),
    bystander: true,
  },
  {
    name: "prefix",
    body: ({ base }) => ({ prefixes: [`${SITE}${base}/purged`] }),
    purged: ({ base }) => ({ kind: "prefixes", values: [`${SITE}${base}/purged`], soft: false }),
    bystander: true,
  },
  {
    name: "tag from X-Cache-Tag",
    headers: (id) => ({ "x-cache-tag": `a-${id}, product-${id}` }),
    body: ({ id }) => ({ tags: [`product-${id}`] }),
    purged: ({ id }) => ({ kind: "tags", values: [`product-${id}`], soft: false }),
    bystander: true,
  },
  {
    name: "tag from Surrogate-Key, in another case",
    headers: (id) => ({ "surrogate-key": `a-${id} Product-${id}` }),
    body: ({ id }) => ({ tags: [`PRODUCT-${id}`] }),
    purged: ({ id }) => ({ kind: "tags", values: [`PRODUCT-${id}`], soft: false }),
    bystander: true,
  },
  {
    name: "tag from the rule",
    body: ({ id }) => ({ tags: [`rule-${id}`] }),
    purged: ({ id }) => ({ kind: "tags", values: [`rule-${id}`], soft: false }),
    bystander: false,
  },
  {
    name: "route",
    body: ({ route }) => ({ routes: [route] }),
    purged: ({ route }) => ({ kind: "routes", values: [route], soft: false }),
    bystander: false,
  },
];

describe("hard purges, each kind, each tier: the next request is a miss", () => {
  for (const tier of ["edge", "kv"] as const) {
    for (const kind of KINDS) {
      it(`${kind.name} (${tier})`, async () => {
        const { h, id, base, route } = setup(tier);
        const path = `${base}/purged/page`;
        const other = `${base}/other`;
        await origin.script(path, { body: "v{n}", headers: { ...MAX_AGE, ...kind.headers?.(id) } });
        await origin.script(other, { body: "other{n}", headers: MAX_AGE });
        await storeAndHit(h, path, tier);
        await storeAndHit(h, other, tier);

        h.clock.advance(1);
        const answer = await h.purge(kind.body({ id, base, route, path }));
        expect(answer.status).toBe(200);
        expect(answer.json).toMatchObject({ purged: kind.purged({ id, base, route, path }), warnings: [] });

        h.clock.advance(1);
        const after = await h.get(path);
        expect(after.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
        expect(after.text).toBe("v2");
        // Stored again after the purge, so it is a hit again.
        expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
        expect(await origin.count(path)).toBe(2);

        const bystander = await h.get(other);
        if (kind.bystander) {
          expect(bystander.cacheStatus).toMatch(new RegExp(`^edge-cache; hit; ttl=\\d+; detail=${tier}$`));
          expect(await origin.count(other)).toBe(1);
        } else {
          expect(bystander.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
          expect(await origin.count(other)).toBe(2);
        }
      });
    }
  }

  it("an entry is purged in KV too when the edge holds it: another data centre's miss in the edge finds nothing in KV", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const routes = [{ name: `both-${id}`, match: { path: `/b${id}/*` }, ttl: { edge: 600, kv: 3600 } }];
    const a = adminHarness({ routes });
    const path = `/b${id}/page`;
    await origin.script(path, { body: "v{n}", headers: { "x-cache-tag": `t-${id}` } });
    await a.get(path);
    a.clock.advance(1);
    expect((await a.purge({ tags: [`t-${id}`] })).status).toBe(200);
    a.clock.advance(1);
    // A Worker that never saw the edge entry: it reads KV (the tag purge deleted nothing there).
    const at = await storageKey(`${SITE}${path}`, "site.test");
    await caches.default.delete(`${SITE}/.edge-cache/entry/${at.hash}`);
    expect(await env.CACHE_KV.get(kvName(at))).not.toBeNull();
    const b = adminHarness({ routes, clock: a.clock });
    const res = await b.get(path);
    expect(res.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
    expect(res.text).toBe("v2");
  });
});

describe("URL purges", () => {
  it("take every Vary variant of the URL, and delete its entries here and in KV at once", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const h = adminHarness({ routes: [{ name: `v-${id}`, match: { path: `/v${id}/*` }, ttl: { edge: 600, kv: 3600 } }] });
    const path = `/v${id}/page`;
    await origin.script(path, { body: "v{n}", headers: { vary: "accept-language" } });
    for (const lang of ["en", "fr"]) {
      await h.get(path, { headers: { "accept-language": lang } });
      expect((await h.get(path, { headers: { "accept-language": lang } })).cacheStatus).toMatch(/^edge-cache; hit;/);
    }
    const at = await storageKey(`${SITE}${path}`, "site.test");
    expect(await env.CACHE_KV.get(kvName(at))).not.toBeNull();

    h.clock.advance(1);
    const answer = await h.purge({ urls: [`${SITE}${path}`] });
    expect(answer.json).toMatchObject({ deleted: 1 });
    expect(await caches.default.match(`${SITE}/.edge-cache/entry/${at.hash}`)).toBeUndefined();
    expect(await env.CACHE_KV.get(kvName(at))).toBeNull();

    h.clock.advance(1);
    for (const lang of ["en", "fr"]) {
      expect((await h.get(path, { headers: { "accept-language": lang } })).cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
    }
    expect(await origin.count(path)).toBe(4);
  });

  it("take every variant of a route that keys on a header (other primary keys: the record covers them)", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const h = adminHarness({ routes: [{ name: `k-${id}`, match: { path: `/k${id}/*` }, ttl: { edge: 600 }, key: { headers: ["x-device"] } }] });
    const path = `/k${id}/page`;
    await origin.script(path, { body: "v{n}" });
    for (const device of ["mobile", "desktop"]) await h.get(path, { headers: { "x-device": device } });
    h.clock.advance(1);
    await h.purge({ urls: [path] });
    h.clock.advance(1);
    for (const device of ["mobile", "desktop"]) {
      expect((await h.get(path, { headers: { "x-device": device } })).cacheStatus).toMatch(/^edge-cache; fwd=uri-miss/);
    }
    expect(await origin.count(path)).toBe(4);
  });
});

describe("soft purges: marked stale, not gone", () => {
  it("with validators: the next request revalidates (304) and keeps the body", async () => {
    const { h, base } = setup("edge");
    const path = `${base}/soft`;
    await origin.script(path, { body: "original", headers: { etag: '"v1"', "cache-control": "max-age=600" } }, { status: 304, headers: { etag: '"v1"', "cache-control": "max-age=600" } });
    await storeAndHit(h, path, "edge");
    h.clock.advance(1);
    const answer = await h.purge({ urls: [path], soft: true });
    expect(answer.json).toMatchObject({ purged: { kind: "urls", soft: true }, deleted: 0 });
    h.clock.advance(1);
    const after = await h.get(path);
    expect(after.cacheStatus).toMatch(/^edge-cache; fwd=stale; fwd-status=304/);
    expect(after.text).toBe("original");
    const seen = await origin.requests(path);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.headers["if-none-match"]).toBe('"v1"');
    // Revalidated after the purge: fresh again.
    expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(await origin.count(path)).toBe(2);
  });

  it("with stale-while-revalidate: served stale at once while it refreshes", async () => {
    const { h, base, id } = setup("kv", { staleWhileRevalidate: 60 });
    const path = `${base}/swr`;
    await origin.script(path, { body: "v{n}", headers: { ...MAX_AGE, "x-cache-tag": `s-${id}` } });
    await storeAndHit(h, path, "kv");
    h.clock.advance(1);
    await h.purge({ tags: [`s-${id}`], soft: true });
    h.clock.advance(1);
    const stale = await h.get(path);
    expect(stale.cacheStatus).toMatch(/^edge-cache; hit; ttl=-?\d+; detail=kv\/stale-while-revalidate$/);
    expect(stale.text).toBe("v1");
    expect(await origin.count(path)).toBe(2);
    const fresh = await h.get(path);
    expect(fresh.text).toBe("v2");
    expect(fresh.cacheStatus).toMatch(/^edge-cache; hit; ttl=\d+; detail=kv$/);
  });

  it("a hard purge after a soft one still wins", async () => {
    const { h, base } = setup("edge", { staleWhileRevalidate: 60 });
    const path = `${base}/both`;
    await origin.script(path, { body: "v{n}", headers: MAX_AGE });
    await storeAndHit(h, path, "edge");
    h.clock.advance(1);
    await h.purge({ prefixes: [path], soft: false });
    h.clock.advance(1);
    await h.purge({ prefixes: [path], soft: true });
    h.clock.advance(1);
    expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
  });
});

describe("the race: a store under way when the purge arrives", () => {
  it("an answer the origin gave before the purge never comes back, though its body finished storing after", async () => {
    const { h, base } = setup("edge");
    const path = `${base}/race`;
    await origin.script(path, { body: "before-purge", holdBody: true }, { body: "after-purge" });
    const inFlight = h.start(path);
    const res = await inFlight.response;
    // The origin has answered (headers) but the body, and so the store, is still under way.
    h.clock.advance(1);
    const answer = await h.purge({ urls: [path] });
    expect(answer.status).toBe(200);
    await origin.release(path);
    expect(await res.text()).toBe("before-purge");
    await inFlight.done();

    h.clock.advance(1);
    const next = await h.get(path);
    expect(next.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
    expect(next.text).toBe("after-purge");
  });
});

describe("propagation between isolates", () => {
  it("another isolate applies a purge once its copy of the records is older than 5 s", async () => {
    const { h: a, base, route } = setup("edge");
    const b = adminHarness({ routes: a.rules.source.routes, clock: a.clock });
    const path = `${base}/spread`;
    await origin.script(path, { body: "v{n}" });
    await storeAndHit(a, path, "edge");
    // b reads the records now (nothing purged) and trusts them for 5 s.
    expect((await b.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
    a.clock.advance(1);
    await a.purge({ routes: [route] });
    expect((await b.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
    a.clock.advance(4);
    expect((await b.get(path)).cacheStatus).toMatch(/^edge-cache; fwd=uri-miss/);
    expect((await a.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(await origin.count(path)).toBe(2);
  });
});

describe("purge requests: what is refused, and how", () => {
  const cases: [string, unknown, string][] = [
    ["not an object", ["https://x"], 'expected a JSON object, one of {"urls": ["https://example.com/page"]}, {"prefixes": ["https://example.com/blog/"]}, {"tags": ["product-42"]}, {"routes": ["pages"]} or {"everything": true}, optionally with "soft": true'],
    ["no target", { soft: true }, 'say what to purge: {"urls": ["https://example.com/page"]}, {"prefixes": ["https://example.com/blog/"]}, {"tags": ["product-42"]}, {"routes": ["pages"]} or {"everything": true}'],
    ["two kinds", { urls: ["/a"], tags: ["b"] }, 'one kind of target per request, got "urls" and "tags": send one request per kind'],
    ["unknown field", { url: ["/a"] }, 'unknown field "url": use one of "urls", "prefixes", "tags", "routes", "everything", and optionally "soft"'],
    ["empty list", { tags: [] }, '"tags" must be a non-empty list of strings, e.g. ["product-42"]'],
    ["a string, not a list", { urls: "/a" }, '"urls" must be a non-empty list of strings, e.g. ["https://example.com/page", "/other-page"]'],
    ["not a URL", { urls: ["ftp://x/y"] }, '"urls"[0] is not a URL: "ftp://x/y"; write an absolute URL such as "https://site.test/page" or a path such as "/page"'],
    ["a tag with a comma", { tags: ["a,b"] }, '"tags"[0] must not contain spaces or commas (one tag per item): "a,b"'],
    ["everything false", { everything: false }, '"everything" must be true (write {"everything": true})'],
    ["soft not boolean", { tags: ["a"], soft: "yes" }, '"soft" must be true or false'],
  ];
  for (const [name, body, message] of cases) {
    it(name, async () => {
      const h = adminHarness();
      const res = await h.purge(body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: "invalid-purge", message });
    });
  }

  it("a body that is not JSON says so and shows an example", async () => {
    const h = adminHarness();
    const res = await h.purge("urls=/a");
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: "bad-request" });
    expect(String(res.json?.message)).toMatch(/^The body is not valid JSON \(.+\): send JSON such as \{"urls": \["https:\/\/example.com\/page"\]\}\.$/);
  });

  it("an unknown route name is purged all the same, with a warning", async () => {
    const h = adminHarness();
    const res = await h.purge({ routes: ["old-name"] });
    expect(res.status).toBe(200);
    expect(res.json?.warnings).toEqual(['no route named "old-name" in the active rules; entries stored under that name are purged all the same']);
  });

  it("logs the purge with its targets", async () => {
    const h = adminHarness();
    await h.purge({ tags: ["a", "b"], soft: true });
    expect(h.adminLogs()).toEqual([
      { msg: "admin", action: "purge", method: "POST", targets: { tags: ["a", "b"], soft: true }, result: "ok", status: 200, token: expect.stringMatching(/^[0-9a-f]{12}$/) },
    ]);
  });
});
