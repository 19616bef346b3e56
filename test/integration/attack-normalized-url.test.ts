/**
 * Issue 10, item 1: one normalized URL for every decision. A percent-encoded spelling
 * of an unreserved character (`%61` for `a`) must pick the same route as the plain
 * path, since both reach the same key and the same origin URL.
 */
import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { SITE } from "../support/harness";
import { origin } from "../support/origin";

/** A fresh path prefix per test, and rules whose `api` route keeps nothing from the origin (it decides, and says nothing). */
function site() {
  const base = origin.prefix();
  const h = adminHarness({
    routes: [
      { name: "api", match: { path: `${base}/api/*` }, origin: "respect", tags: ["api"] },
      { name: "all", match: { path: "/*" }, ttl: { edge: 3600 } },
    ],
  });
  return { h, base };
}

describe("an encoded spelling picks the route of the plain path", () => {
  it("/%61pi/... does not get the catch-all's TTL under the api key", async () => {
    const { h, base } = site();
    const plain = `${base}/api/v1/prices`;
    await origin.script(plain, { body: "price v{n}" });

    const attacker = await h.get(`${base}/%61pi/v1/prices`);
    expect(attacker.status).toBe(200);
    expect(attacker.cacheStatus).not.toMatch(/stored/);

    const victim = await h.get(plain);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("price v2");
    expect(victim.cacheStatus).toMatch(/fwd=uri-miss/);
    expect(victim.cacheStatus).not.toMatch(/hit/);
    expect(await origin.count(plain)).toBe(2);
  });

  it("a route purge reaches what an encoded spelling stored, and explain names that route", async () => {
    const base = origin.prefix();
    const h = adminHarness({
      routes: [
        { name: "api", match: { path: `${base}/api/*` }, ttl: { edge: 600 } },
        { name: "all", match: { path: "/*" }, ttl: { edge: 3600 } },
      ],
    });
    const plain = `${base}/api/v1/prices`;
    await origin.script(plain, { body: "price v{n}" });

    const explained = await h.explain(`url=${encodeURIComponent(`${SITE}${base}/%61pi/v1/prices`)}`);
    expect(explained.json?.route).toMatchObject({ name: "api" });

    expect((await h.get(`${base}/%61pi/v1/prices`)).cacheStatus).toMatch(/stored/);
    h.clock.advance(1);
    expect((await h.purge({ routes: ["api"] })).status).toBe(200);

    const victim = await h.get(plain);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("price v2");
    expect(victim.cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await origin.count(plain)).toBe(2);
  });

  it("an encoded spelling does not skip the plain path's bypass", async () => {
    const base = origin.prefix();
    const h = adminHarness({
      routes: [
        { name: "account", match: { path: `${base}/account/*` }, bypass: true },
        { name: "all", match: { path: "/*" }, ttl: { edge: 3600 } },
      ],
    });
    const plain = `${base}/account/me`;
    await origin.script(plain, { body: "account v{n}" });

    const attacker = await h.get(`${base}/%61ccount/me`);
    expect(attacker.cacheStatus).toMatch(/fwd=bypass;\s*detail=route/);
    // The catch-all would have stored it; the origin was asked for the plain path.
    const again = await h.get(`${base}/%61ccount/me`);
    expect(again.text).toBe("account v2");
    expect(again.cacheStatus).not.toMatch(/hit/);
    expect(await origin.count(plain)).toBe(2);
  });
});
