import { describe, expect, it } from "vitest";
import { SITE } from "../support/harness";
import { aroundShield, locations, overrideKv, watchShield } from "../support/locations";
import { origin } from "../support/origin";
import { until } from "../support/until";

const SHIELDED = { routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 600, kv: 600 }, shield: true }] };
const MAX_AGE = { "cache-control": "max-age=600" };

describe("the origin shield", () => {
  it("a herd across 4 locations, 5 requests each, costs the origin one fetch", async () => {
    const { wrapShield, waiters } = watchShield();
    const { sites } = locations(4, { ...SHIELDED, wrapShield });
    const path = origin.path();
    await origin.script(path, { body: "shared body", headers: MAX_AGE, hold: true });
    const started = sites.flatMap((s) => Array.from({ length: 5 }, () => s.start(path)));
    await until(async () => (await origin.held(path)) === 1);
    // Every location's leader has reached the shield before the origin answers.
    await until(async () => (await waiters()) === 4);
    await origin.release(path);
    const bodies = await Promise.all(
      started.map(async (s) => {
        const res = await s.response;
        const text = await res.text();
        await s.done();
        return { status: res.status, text, cacheStatus: res.headers.get("cache-status") ?? "" };
      }),
    );
    expect(bodies.every((b) => b.status === 200 && b.text === "shared body")).toBe(true);
    expect(bodies.filter((b) => b.cacheStatus.includes("detail=shield")).length).toBe(4);
    expect(await origin.count(path)).toBe(1);
    // Every location stored it in its own edge.
    for (const s of sites) expect((await s.get(path)).cacheStatus).toMatch(/hit; .*detail=edge$/);
  });

  it("a location that joins a flight begun before a purge does not get, or keep, the purged answer", async () => {
    const { wrapShield, waiters } = watchShield();
    const { clock, sites } = locations(2, { ...SHIELDED, wrapShield });
    const [a, b] = sites as [(typeof sites)[0], (typeof sites)[0]];
    const path = origin.path();
    await origin.script(path, { body: "before {n}", headers: MAX_AGE, hold: true }, { body: "after {n}", headers: MAX_AGE });
    // A's miss reaches the origin through the shield, which holds its answer.
    const early = a.start(path);
    await until(async () => (await origin.held(path)) === 1);
    clock.advance(1);
    expect((await b.purge({ urls: [`${SITE}${path}`] })).status).toBe(200);
    clock.advance(1);
    // B misses after the purge while the old flight still runs.
    const late = b.start(path);
    await until(async () => (await waiters()) === 2);
    await origin.release(path);
    // A asked before the purge: the answer begun then is A's.
    expect(await (await early.response).text()).toBe("before 1");
    await early.done();
    // B asked after it: it fetched for itself and keeps only the new answer.
    expect(await (await late.response).text()).toBe("after 2");
    await late.done();
    const again = await b.get(path);
    expect(again.text).toBe("after 2");
    expect(again.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(await origin.count(path)).toBe(2);
  });

  describe("after its flight, the shield holds the answer for locations that cannot see the KV copy yet", () => {
    /** A location whose KV reads still find nothing (KV caches a miss per location for up to 60 s). */
    const kvNotYet = (kv: KVNamespace, location: number): KVNamespace =>
      location === 0
        ? kv
        : overrideKv(kv, () => ({ getWithMetadata: async () => ({ value: null, metadata: null, cacheStatus: null }) }));
    const shortLived = { routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 10, kv: 60 }, shield: true }] };

    it("a later miss elsewhere costs no origin fetch", async () => {
      const { sites } = locations(3, { ...SHIELDED, wrapKv: kvNotYet });
      const path = origin.path();
      await origin.script(path, { body: "v{n}", headers: MAX_AGE });
      expect((await sites[0]!.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
      for (const s of sites.slice(1)) {
        const late = await s.get(path);
        expect(late.text).toBe("v1");
        expect(late.cacheStatus).toMatch(/fwd=uri-miss; stored.*detail=shield/);
      }
      expect(await origin.count(path)).toBe(1);
    });

    it("a purge since the answer was fetched: the next miss gets a new answer, and later misses share it", async () => {
      const { clock, sites } = locations(3, { ...SHIELDED, wrapKv: kvNotYet });
      const path = origin.path();
      await origin.script(path, { body: "v{n}", headers: MAX_AGE });
      await sites[0]!.get(path);
      clock.advance(1);
      expect((await sites[1]!.purge({ urls: [`${SITE}${path}`] })).status).toBe(200);
      clock.advance(1);
      expect((await sites[1]!.get(path)).text).toBe("v2");
      expect((await sites[2]!.get(path)).text).toBe("v2");
      expect(await origin.count(path)).toBe(2);
    });

    it("an answer no longer fresh by the route's rules is not taken from the hold", async () => {
      const { clock, sites } = locations(2, { ...shortLived, wrapKv: kvNotYet });
      const path = origin.path();
      await origin.script(path, { body: "v{n}" });
      await sites[0]!.get(path);
      clock.advance(11);
      const late = await sites[1]!.get(path);
      expect(late.text).toBe("v2");
      expect(await origin.count(path)).toBe(2);
    });
  });

  it("uncacheable answers pass straight through: each location gets its own", async () => {
    const { sites } = locations(2, SHIELDED);
    const path = origin.path();
    await origin.script(path, { body: "private {n}", headers: { "cache-control": "private" } });
    const [a, b] = await Promise.all(sites.map((s) => s.get(path)));
    expect([a!.text, b!.text].sort()).toEqual(["private 1", "private 2"]);
    expect(await origin.count(path)).toBe(2);
  });

  it("a shield that fails or is overloaded falls back to a direct origin fetch, with one log line", async () => {
    const failing = aroundShield(async () => {
      throw new Error("shield down");
    });
    const overloaded = aroundShield(async () => ({ refused: "overloaded" }));
    const { sites } = locations(2, { ...SHIELDED, wrapShield: (i) => (i === 0 ? failing : overloaded) });
    for (const [i, s] of sites.entries()) {
      const path = origin.path();
      await origin.script(path, { body: "direct", headers: MAX_AGE });
      const got = await s.get(path);
      expect(got.status).toBe(200);
      expect(got.text).toBe("direct");
      expect(got.cacheStatus).toMatch(/fwd=uri-miss; stored/);
      expect(got.cacheStatus).not.toContain("shield");
      expect(s.logs.filter((l) => l.msg === "shield-unavailable")).toEqual([
        expect.objectContaining({ fallback: "origin", error: i === 0 ? "shield down" : "overloaded" }),
      ]);
    }
  });

  it("a shield failing halfway through a body: no truncated entry, and the next request gets the whole answer", async () => {
    let cuts = 1;
    const cut = aroundShield(async (call) => {
      const res = await call();
      if (cuts-- <= 0 || !("body" in res)) return res;
      const reader = res.body!.getReader();
      const first = await reader.read();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(first.value!.slice(0, 100));
          controller.error(new Error("shield went away"));
        },
      });
      return { ...res, body };
    });
    const { sites } = locations(2, { ...SHIELDED, wrapShield: (i) => (i === 0 ? cut : undefined) });
    const path = origin.path();
    await origin.script(path, { bodyBytes: 64 * 1024, headers: MAX_AGE });
    const first = sites[0]!.start(path);
    const res = await first.response;
    // The client sees an error, never a short body that looks complete.
    await expect(res.arrayBuffer()).rejects.toThrow();
    await first.done();
    const again = await sites[0]!.get(path);
    expect(again.status).toBe(200);
    expect(again.bytes.byteLength).toBe(64 * 1024);
    expect(again.cacheStatus).not.toMatch(/hit/);
    const elsewhere = await sites[1]!.get(path);
    expect(elsewhere.bytes.byteLength).toBe(64 * 1024);
  });
});
