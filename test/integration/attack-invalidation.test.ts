/**
 * Issue 10, item 7: unsafe-method invalidation costs only what it must. A successful
 * POST clears what its URL can have stored (RFC 9111 §4.4), only in the tiers its
 * route uses, and a KV delete at most once per key per write interval: KV bills
 * deletes, and an anonymous `POST /` loop must not be a bill or an eviction storm.
 */
import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { overrideKv } from "../support/locations";
import { origin } from "../support/origin";

/** A KV wrapper that counts deletes of cache entries (`e:` keys), for the cost. */
function countingDeletes() {
  const deleted: string[] = [];
  const wrapKv = (kv: KVNamespace): KVNamespace =>
    overrideKv(kv, (target) => ({
      delete: (key: string) => {
        if (key.startsWith("e:")) deleted.push(key);
        return target.delete(key);
      },
    }));
  return { deleted, wrapKv };
}

const gets = async (path: string) => (await origin.requests(path)).filter((r) => r.method === "GET").length;

describe("a POST loop on a route that stores nothing costs no KV delete", () => {
  it.each([
    ["bypass: true", { bypass: true }],
    ["no tier (ttl 0 and 0)", { ttl: { edge: 0, kv: 0 } }],
    ["GET bypassed", { bypass: { methods: ["GET"] } }],
  ])("%s", async (_what, settings) => {
    const base = origin.prefix();
    const kv = countingDeletes();
    const h = adminHarness({
      routes: [
        { name: "forms", match: { path: `${base}/*` }, ...settings },
        { name: "all", match: { path: "/*" }, ttl: { edge: 600, kv: 600 } },
      ],
      wrapKv: kv.wrapKv,
    });
    const path = `${base}/`;
    await origin.script(path, { body: "home v{n}" });

    for (let i = 0; i < 20; i++) {
      const attacker = await h.get(path, { method: "POST", body: `x=${i}` });
      expect(attacker.status).toBe(200);
      h.clock.advance(2);
    }
    expect(kv.deleted).toEqual([]);

    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("home v21");
    expect(victim.cacheStatus).not.toMatch(/hit/);
    expect(await gets(path)).toBe(1);
  });

  it("a route that stores in the edge only: the edge copy is cleared, KV is never asked", async () => {
    const base = origin.prefix();
    const kv = countingDeletes();
    const h = adminHarness({ routes: [{ name: "edge", match: { path: "/*" }, ttl: { edge: 600, kv: 0 } }], wrapKv: kv.wrapKv });
    const path = `${base}/page`;
    await origin.script(path, { body: "page v{n}" });
    expect((await h.get(path)).cacheStatus).toMatch(/stored/);

    for (let i = 0; i < 10; i++) expect((await h.get(path, { method: "POST", body: "x" })).status).toBe(200);
    expect(kv.deleted).toEqual([]);

    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("page v12");
    expect(victim.cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await gets(path)).toBe(2);
  });
});

describe("a POST loop on a storing route costs at most one KV delete per key per second", () => {
  it("20 POSTs in one second: one delete; a second later: one more; the GET answer is cleared", async () => {
    const base = origin.prefix();
    const kv = countingDeletes();
    const h = adminHarness({ routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 600, kv: 600 } }], wrapKv: kv.wrapKv });
    const path = `${base}/`;
    const other = `${base}/other`;
    await origin.script(path, { body: "home v{n}" });
    expect((await h.get(path)).cacheStatus).toMatch(/stored/);

    for (let i = 0; i < 20; i++) expect((await h.get(path, { method: "POST", body: "x" })).status).toBe(200);
    expect(kv.deleted).toHaveLength(1);
    // Another key has its own allowance.
    await h.get(other, { method: "POST", body: "x" });
    expect(kv.deleted).toHaveLength(2);
    h.clock.advance(1);
    for (let i = 0; i < 20; i++) await h.get(path, { method: "POST", body: "x" });
    expect(kv.deleted).toHaveLength(3);
    expect(new Set(kv.deleted).size).toBe(2);

    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("home v42");
    expect(victim.cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await gets(path)).toBe(2);
  });
});
