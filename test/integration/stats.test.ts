import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { origin } from "../support/origin";
import { SITE } from "../support/harness";

const routes = [
  { name: "pages", match: { path: "/*" }, ttl: { edge: 60, kv: 0 }, key: { query: { ignore: ["utm_*"] } }, bypass: { cookies: ["session*"] } },
];

/** A site of its own per test: the coordinator adds up only this test's traffic. */
const own = () => ({ SITE_NAME: `stats-${crypto.randomUUID()}` });

async function scripted(name: string, headers: Record<string, string> = { "cache-control": "max-age=60" }) {
  const path = origin.path(name);
  await origin.script(path, { headers, body: "hello" });
  return path;
}

describe("GET /.edge-cache/stats", () => {
  it("counts the test's own hits, misses and bypasses, per route and for the site", async () => {
    const h = adminHarness({ routes, env: own() });
    const cached = await scripted("cached");
    const uncacheable = await scripted("nostore", { "cache-control": "no-store" });
    for (let i = 0; i < 4; i++) await h.get(`${cached}?utm_source=mail${i}`); // 1 miss, 3 hits
    await h.get(uncacheable);
    await h.get(cached, { headers: { cookie: "session_id=secret-cookie-value" } });
    await h.get(cached, { headers: { cookie: "session_id=secret-cookie-value" } });

    const got = await h.admin("GET", "stats?window=15m");
    expect(got.status).toBe(200);
    const s = got.json as Record<string, any>;
    expect(s.window).toBe("15m");
    expect(s.scope).toBe("site");
    expect(s.routes.pages).toMatchObject({ requests: 7, hits: { edge: 3, kv: 0 }, misses: 2, bypass: 2, stale: 0, errors: 0, missesStored: 1 });
    expect(s.routes.pages.hitRatio).toBeCloseTo(3 / 7, 3);
    expect(s.routes.pages.reasons).toMatchObject({ notStored: { "no-store": 1 }, bypass: { cookie: 2 } });
    expect(s.routes.pages.bytes).toEqual({ cache: 15, origin: 20 });
    expect(s.routes.pages.origin.fetches).toBe(4);
    expect(s.total.requests).toBe(7);
    expect(s.series).toHaveLength(15);
    expect(s.series.at(-1)).toMatchObject({ requests: 7, hits: 3, routes: { pages: { requests: 7, hits: 3 } } });
    expect(s.topMisses).toEqual([
      { url: `${SITE}${cached}`, reason: "cookie", count: 2 },
      { url: `${SITE}${cached}?utm_source`, reason: "uri-miss", count: 1 },
      { url: `${SITE}${uncacheable}`, reason: "no-store", count: 1 },
    ]);
    expect(got.text).not.toContain("secret-cookie-value");
    expect(got.text).not.toContain("mail0");
  });

  it("minutes move with the clock: a 15-minute window forgets older traffic, 1h keeps it", async () => {
    const h = adminHarness({ routes, env: own() });
    const path = await scripted("old");
    await h.get(path);
    await h.get(path);
    h.clock.advance(20 * 60);
    const quarter = (await h.admin("GET", "stats?window=15m")).json as Record<string, any>;
    const hour = (await h.admin("GET", "stats")).json as Record<string, any>;
    expect(quarter.total.requests).toBe(0);
    expect(hour.window).toBe("1h");
    expect(hour.total).toMatchObject({ requests: 2, hits: { edge: 1, kv: 0 }, misses: 1 });
    expect(hour.series).toHaveLength(60);
  });

  it("needs the admin token and a known window", async () => {
    const h = adminHarness({ routes, env: own() });
    expect((await h.admin("GET", "stats", undefined, null)).status).toBe(401);
    const bad = await h.admin("GET", "stats?window=2h");
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: "invalid-window", message: 'window must be one of 15m, 1h, 24h, got "2h".' });
  });

  it("KV reads and writes are counted on the route that caused them", async () => {
    const h = adminHarness({ env: own(), routes: [{ name: "kv", match: { path: "/*" }, ttl: { edge: 0, kv: 300 } }] });
    const path = await scripted("kv");
    await h.get(path);
    await h.get(path);
    const s = (await h.admin("GET", "stats")).json as Record<string, any>;
    expect(s.routes.kv.kv.writes).toBe(1);
    expect(s.routes.kv.kv.reads).toBe(2);
    expect(s.routes.kv.hits).toEqual({ edge: 0, kv: 1 });
  });
});

describe("Analytics Engine", () => {
  it("writes one data point per request in the documented order", async () => {
    const points: AnalyticsEngineDataPoint[] = [];
    const h = adminHarness({ routes, env: { ...own(), ANALYTICS: { writeDataPoint: (p) => void points.push(p!) } } });
    const path = await scripted("ae");
    await h.get(`${path}?utm_campaign=x&id=1`);
    await h.get(`${path}?utm_campaign=x&id=1`);
    expect(points).toHaveLength(2);
    expect(points[0]).toEqual({
      indexes: ["site.test"],
      blobs: ["pages", "miss-stored", "uri-miss", "", "GET", `${SITE}${path}?utm_campaign&id=1`],
      doubles: [200, 5, expect.any(Number), 1, 0, 0],
    });
    expect(points[1]!.blobs!.slice(1, 4)).toEqual(["hit", "", "edge"]);
    expect(points[1]!.doubles!.slice(3)).toEqual([0, 1, 0]);
  });

  it("a failing dataset never fails a request", async () => {
    const h = adminHarness({ routes, env: { ...own(), ANALYTICS: { writeDataPoint: () => { throw new Error("down"); } } } });
    const path = await scripted("ae-down");
    expect((await h.get(path)).status).toBe(200);
    expect((await h.get(path)).cacheStatus).toContain("hit");
  });
});

describe("the dashboard and the recent purges", () => {
  it("a browser gets one self-contained page without a token; a client the JSON index", async () => {
    const h = adminHarness({ routes, env: own() });
    const page = await h.request("/.edge-cache/", { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+'; connect-src 'self'/);
    expect(page.text).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|@import|url\(|(src|href)=["']?(https?:)?\/\//);
    // The one absolute URL is the SVG namespace, a name and never fetched.
    expect(page.text.match(/https?:\/\/[^"\s]+/g)).toEqual(["http://www.w3.org/2000/svg"]);
    expect(page.text).not.toContain("test-admin-token");
    const index = await h.request("/.edge-cache/", { headers: { accept: "application/json" } });
    expect(index.status).toBe(401);
  });

  it("GET /.edge-cache/purges lists the newest purges first", async () => {
    // A site (coordinator) of its own: the list is the site's, and other tests purge too.
    const h = adminHarness({ routes, env: { SITE_NAME: `site-${crypto.randomUUID()}` } });
    const first = await h.purge({ tags: ["a"] });
    expect(first.status).toBe(200);
    h.clock.advance(2);
    const second = await h.purge({ urls: [`${SITE}/x`], soft: true });
    expect(second.status).toBe(200);
    const list = await h.admin("GET", "purges");
    expect(list.status).toBe(200);
    // Each at the time the coordinator recorded it, as the purge's answer said.
    expect(list.json!.purges).toEqual([
      { kind: "urls", value: `${SITE}/x`, at: second.json!.at, soft: true },
      { kind: "tags", value: "a", at: first.json!.at, soft: false },
    ]);
  });
});
