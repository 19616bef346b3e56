/**
 * Many isolates: the isolates of one location are `createWorker()` instances sharing
 * that location's Cache API namespace (`cacheName`), over the same KV and coordinator;
 * each location has its own namespace. One clock moves them all.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CoordinatorWrapper } from "../../src/coordinator/client";
import { locationStore } from "../../src/coordinator/location-copy";
import { BOUND_MS, REFRESH_MS } from "../../src/coordinator/timing";
import { adminHarness } from "../support/admin-harness";
import { TestClock } from "../support/harness";
import { aroundCoordinator } from "../support/locations";
import { origin } from "../support/origin";
import { until } from "../support/until";

const EDGE_ONLY = [{ name: "all", match: { path: "/*" }, ttl: { edge: 600, kv: 0 } }];
const MAX_AGE = { "cache-control": "max-age=600" };

/** A site whose coordinator calls are counted (and, while `slow` is set, held 150 ms of test time). */
function site() {
  const clock = new TestClock();
  const name = `site-${crypto.randomUUID().slice(0, 8)}`;
  const calls: string[] = [];
  const state = { slow: false, down: false };
  const wrap: CoordinatorWrapper = aroundCoordinator(async (method, call) => {
    // The statistics are another feature's calls (src/stats).
    if (method.startsWith("stats")) return call();
    calls.push(method);
    if (state.down) throw new Error("coordinator down");
    if (state.slow) await clock.timer(150).fired;
    return call();
  });
  /** One location: `count` isolates sharing its Cache API namespace. */
  const location = (count: number) => {
    const cacheName = `loc-${crypto.randomUUID().slice(0, 8)}`;
    const isolate = () => adminHarness({ routes: EDGE_ONLY, env: { SITE_NAME: name }, clock, cacheName, wrapCoordinator: wrap });
    return { cacheName, isolate, isolates: Array.from({ length: count }, isolate) };
  };
  const since = () => calls.filter((m) => m === "since").length;
  return { clock, name, calls, state, location, since };
}

/** Whether `p` settles without the clock moving: true once it has; false if it has not after `turns` I/O turns. */
async function settles(p: Promise<unknown>, turns = 500): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < turns && !done; i++) await origin.held("/__nothing__");
  return done;
}

describe("the coordinator is asked once per location, not once per isolate", () => {
  it("16 isolates in one location make about as many coordinator requests as 2", async () => {
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    const run = async (count: number) => {
      const s = site();
      const { isolates } = s.location(count);
      // 20 s of traffic: every isolate serves a request every half second.
      for (let step = 0; step < 40; step++) {
        for (const i of isolates) await i.get(path);
        s.clock.advance(0.5);
      }
      return s.since();
    };
    const two = await run(2);
    const sixteen = await run(16);
    // About one call per refresh interval (2 s) for 20 s, whatever the isolates.
    expect(two).toBeGreaterThanOrEqual(10);
    expect(two).toBeLessThanOrEqual(12);
    expect(sixteen).toBeLessThanOrEqual(Math.ceil(two * 1.25));
  }, 60_000);

  it("16 new isolates whose first requests arrive at once, the coordinator slow: one asks, the others wait for its copy", async () => {
    const s = site();
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    const loc = s.location(0);
    // Stored in the location's edge by a miss (which needs no purge state): no copy yet.
    await loc.isolate().get(path);
    s.state.slow = true;
    const starts = Array.from({ length: 16 }, () => loc.isolate().start(path));
    await until(() => s.since() >= 1, "one asked");
    // Time moves in small steps (the held call, then the others' looks at the copy) until every request is answered.
    let answered = 0;
    for (const st of starts) void st.response.then(() => answered++);
    for (let step = 0; step < 60 && answered < starts.length; step++) {
      s.clock.advance(0.05);
      await origin.held("/__nothing__");
    }
    for (const st of starts) expect((await st.response).headers.get("cache-status")).toMatch(/hit; .*detail=edge$/);
    await Promise.all(starts.map((st) => st.done()));
    expect(s.since()).toBeLessThanOrEqual(2);
  });

  it("each location asks for itself: two locations, two calls per refresh", async () => {
    const s = site();
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    const here = s.location(3).isolates;
    const there = s.location(3).isolates;
    for (const i of [...here, ...there]) await i.get(path);
    expect(s.since()).toBe(2);
  });
});

describe("a new isolate's first request while the coordinator is slow (150 ms)", () => {
  it("does not wait when its location has a fresh copy", async () => {
    const s = site();
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    const loc = s.location(1);
    // A miss needs no purge state; the hit after it loads it (and writes the location's copy).
    await loc.isolates[0]!.get(path);
    await loc.isolates[0]!.get(path);
    expect(s.since()).toBe(1);

    s.state.slow = true;
    s.clock.advance(1);
    const fresh = loc.isolate().start(path);
    // Answered without the clock moving: it never waited for the held call (there is none).
    expect(await settles(fresh.response)).toBe(true);
    expect((await fresh.response).headers.get("cache-status")).toMatch(/hit; .*detail=edge$/);
    await fresh.done();
    expect(s.since()).toBe(1);
  });

  it("waits, bounded, when there is none: until the coordinator answers", async () => {
    const s = site();
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    const loc = s.location(1);
    // Stored in the location's edge by a miss, which needs no purge state: no copy yet.
    await loc.isolates[0]!.get(path);
    expect(s.since()).toBe(0);
    s.state.slow = true;
    const first = loc.isolate().start(path);
    await until(() => s.since() === 1, "the first request asked the coordinator");
    expect(await settles(first.response, 20)).toBe(false);
    s.clock.advance(0.15);
    expect((await first.response).headers.get("cache-status")).toMatch(/hit; .*detail=edge$/);
    await first.done();
  });

  it("waits, bounded, when there is none and the coordinator never answers: the KV copy serves after 2.5 s (a cold load's timeout)", async () => {
    const s = site();
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    // Held far longer than the coordinator's timeout.
    const held = adminHarness({
      routes: EDGE_ONLY,
      env: { SITE_NAME: s.name },
      clock: s.clock,
      cacheName: `loc-${crypto.randomUUID().slice(0, 8)}`,
      wrapCoordinator: aroundCoordinator(async (method, call) => (method === "since" ? new Promise(() => {}) : call())),
    });
    await held.get(path);
    const first = held.start(path);
    await until(() => s.clock.waiting >= 2, "the request waits on the coordinator's timeout");
    s.clock.advance(2.4);
    expect(await settles(first.response, 20)).toBe(false);
    s.clock.advance(0.1);
    expect((await first.response).headers.get("cache-status")).toMatch(/hit; .*detail=edge$/);
    await first.done();
    expect(held.logs.filter((l) => l.msg === "coordinator-unavailable")).toEqual([expect.objectContaining({ part: "state", fallback: "kv" })]);
  });
});

describe("a purge taken by one isolate", () => {
  it("is honoured by that isolate at once, by a new isolate of its location at once, and by every other within the bound", async () => {
    const s = site();
    const path = origin.path();
    await origin.script(path, { body: "v{n}", headers: MAX_AGE });
    const here = s.location(4);
    const there = s.location(4);
    const all = [...here.isolates, ...there.isolates];
    // Stored in both locations' edges, and every isolate has loaded the state.
    await here.isolates[0]!.get(path);
    await there.isolates[0]!.get(path);
    for (const i of here.isolates) expect((await i.get(path)).text).toBe("v1");
    for (const i of there.isolates) expect((await i.get(path)).text).toBe("v2");

    s.clock.advance(1);
    expect((await here.isolates[0]!.purge({ urls: [path] })).status).toBe(200);
    // A second later: an answer stored in the purge's own second counts as purged (times are whole seconds).
    s.clock.advance(1);
    const again = await here.isolates[0]!.get(path);
    expect([again.text, again.cacheStatus]).toEqual(["v3", expect.stringMatching(/fwd=uri-miss; stored/)]);
    // The location's copy lacked the purge: it was dropped, so a new isolate there asks.
    expect((await here.isolate().get(path)).text).toBe("v3");

    // Every other isolate, in both locations, within the bound of the call its state came from.
    s.clock.advance(BOUND_MS / 1000);
    for (const i of here.isolates) expect((await i.get(path)).text).toBe("v3");
    for (const i of there.isolates) expect((await i.get(path)).text).toBe("v4");
    expect(await origin.count(path)).toBe(4);
  });
});

describe("the location's copy absent, stale or corrupt", () => {
  const cases = [
    { name: "absent", spoil: async (cache: Cache, siteName: string) => void (await cache.delete(`https://site.test/.edge-cache/site/${siteName}`)) },
    {
      name: "stale (older than the bound)",
      spoil: async (cache: Cache, siteName: string, clock: TestClock) =>
        locationStore({ cache, host: "site.test", site: siteName, log: () => {} }).write({
          at: clock.now() - BOUND_MS - 1,
          location: "elsewhere",
          purges: { sequence: 999, everything: [0, 0], floor: 0, horizonMs: 0, rows: new Float64Array(0) },
          rules: { sequence: 0, record: null, seedId: "" },
        }),
    },
    {
      name: "corrupt (another version)",
      spoil: async (cache: Cache, siteName: string, clock: TestClock) =>
        cache.put(
          `https://site.test/.edge-cache/site/${siteName}`,
          new Response("", { headers: { "x-edge-cache-site": JSON.stringify({ v: 2, site: siteName, at: clock.now() }), "cache-control": "max-age=5" } }),
        ),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the coordinator answers, and when it cannot, the KV copy`, async () => {
      const s = site();
      const path = origin.path();
      await origin.script(path, { body: "v{n}", headers: MAX_AGE });
      const loc = s.location(0);
      const cache = await caches.open(loc.cacheName);
      // Stored, then purged through another location (the coordinator has it; KV too once its alarm runs).
      const writer = s.location(1).isolates[0]!;
      await writer.get(path);
      await writer.get(path);
      const a = loc.isolate();
      expect((await a.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
      await c.spoil(cache, s.name, s.clock);
      expect((await a.get(path)).cacheStatus).toMatch(/hit; .*detail=edge$/);
      expect(s.since()).toBe(2);

      s.clock.advance(1);
      expect((await writer.purge({ urls: [path] })).status).toBe(200);
      await runDurableObjectAlarm(env.COORDINATOR.get(env.COORDINATOR.idFromName(s.name)));
      s.state.down = true;
      await c.spoil(cache, s.name, s.clock);
      s.clock.advance(BOUND_MS / 1000);
      // The coordinator is down: the purge reaches this isolate through the KV copy.
      const fresh = loc.isolate();
      expect((await fresh.get(path)).cacheStatus).toMatch(/fwd=uri-miss/);
      expect(fresh.logs.filter((l) => l.msg === "coordinator-unavailable")).toEqual([expect.objectContaining({ part: "state", fallback: "kv" })]);
    });
  }

  it("a copy younger than the refresh interval is used as it is; older, one isolate claims the ask and makes it", async () => {
    const s = site();
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    const loc = s.location(2);
    await loc.isolates[0]!.get(path);
    await loc.isolates[0]!.get(path);
    s.clock.advance(REFRESH_MS / 1000 - 0.5);
    await loc.isolates[1]!.get(path);
    expect(s.since()).toBe(1);
    // Older: the next isolate to look claims the location's ask (the last ask was another's),
    // and makes it at its next look, the claim still standing; the others then read its copy.
    s.clock.advance(1);
    await loc.isolates[1]!.get(path);
    expect(s.since()).toBe(1);
    s.clock.advance(0.1);
    await loc.isolates[0]!.get(path);
    expect(s.since()).toBe(1);
    await loc.isolates[1]!.get(path);
    expect(s.since()).toBe(2);
    await loc.isolates[0]!.get(path);
    expect(s.since()).toBe(2);
  });
});
