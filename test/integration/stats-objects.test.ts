import { describe, expect, it } from "vitest";
import type { StatsName } from "../../src/stats/client";
import { adminHarness } from "../support/admin-harness";
import { TestClock } from "../support/harness";
import { origin } from "../support/origin";
import { aroundStats } from "../support/stats-objects";

const routes = [
  { name: "a", match: { path: "/*/a/*" }, ttl: { edge: 60, kv: 0 } },
  { name: "b", match: { path: "/*" }, ttl: { edge: 60, kv: 0 } },
];

type Json = Record<string, any>;

/** What reached the objects: flushes to each location's, and requests to the site's (forwards seen by isolates, and reads). */
function counter() {
  const adds = new Map<string, number>();
  let forwards = 0;
  let siteCalls = 0;
  const wrap = aroundStats(async (method, name: StatsName, call) => {
    if (name.location === null) siteCalls++;
    if (method !== "add") return call();
    adds.set(name.location!, (adds.get(name.location!) ?? 0) + 1);
    const got = (await call()) as { forwarded: boolean };
    if (got.forwarded) forwards++;
    return got;
  });
  return { wrap, adds, forwards: () => forwards, siteCalls: () => siteCalls };
}

/** `perLocation` isolates (createWorker instances) in each of `count` locations of one new site, over one clock. */
function isolates(count: number, perLocation: number, wrap: ReturnType<typeof counter>["wrap"]) {
  const clock = new TestClock();
  const run = crypto.randomUUID().slice(0, 8);
  const env = { SITE_NAME: `stats-${run}` };
  return {
    clock,
    locations: Array.from({ length: count }, (_, l) =>
      Array.from({ length: perLocation }, () => adminHarness({ routes, env, clock, cacheName: `loc-${l}-${run}`, location: `loc-${l}-${run}`, wrapStats: wrap })),
    ),
  };
}

async function scripted(name: string) {
  const path = origin.path(name);
  await origin.script(path, { headers: { "cache-control": "max-age=60" }, body: "hello" });
  return path;
}

describe("statistics objects: requests grow with locations and time, not isolates", () => {
  it.each([2, 16])("%i isolates in one location: one forward to the site's object per flush round", async (n) => {
    const c = counter();
    const { clock, locations } = isolates(1, n, c.wrap);
    const path = await scripted(`round-${n}`);
    const ROUNDS = 3;
    for (let round = 0; round < ROUNDS; round++) {
      for (const h of locations[0]!) await h.get(path);
      clock.advance(10);
    }
    // Each isolate flushes once a round to its location's object...
    expect([...c.adds.values()]).toEqual([n * ROUNDS]);
    // ...which forwards once a round, whatever the isolates: the site's object sees rounds.
    expect(c.forwards()).toBeLessThanOrEqual(ROUNDS);
    expect(c.forwards()).toBeGreaterThanOrEqual(1);
    expect(c.siteCalls()).toBe(0);

    const got = (await locations[0]![0]!.admin("GET", "stats?window=15m")).json as Json;
    expect(got.scope).toBe("site");
    expect(got.total).toMatchObject({ requests: n * ROUNDS, misses: 1, hits: { edge: n * ROUNDS - 1, kv: 0 } });
    // A read is one request to the site's object (after its own location forwards).
    expect(c.siteCalls()).toBe(1);
  });

  it("two locations over hours: the 24 h answer is the sum of what every isolate counted, and a day later the oldest hour is gone", async () => {
    const c = counter();
    const { clock, locations } = isolates(2, 3, c.wrap);
    const a = await scripted("hours/a/x");
    const b = await scripted("hours-b");
    const HOURS = 6;
    for (let hour = 0; hour < HOURS; hour++) {
      for (const location of locations) for (const h of location) {
        await h.get(a);
        await h.get(b);
      }
      clock.advance(3600);
    }
    const per = 2 * 3 * HOURS; // requests per route
    // Forwards: at most one per location per round (an hour each here), never per isolate.
    expect(c.forwards()).toBeLessThanOrEqual(2 * HOURS);
    // The last 10 s of each isolate are still in it (a read sends the reader's own): every isolate reads once.
    for (const location of locations) for (const h of location) await h.admin("GET", "stats?window=15m");
    const day = (await locations[1]![2]!.admin("GET", "stats?window=24h")).json as Json;
    expect(day.scope).toBe("site");
    expect(day.total.requests).toBe(2 * per);
    // Entries keep 60 s: each hour, each location misses each URL once.
    const misses = 2 * HOURS;
    expect(day.routes.a).toMatchObject({ requests: per, missesStored: misses, hits: { edge: per - misses, kv: 0 } });
    expect(day.routes.b).toMatchObject({ requests: per, missesStored: misses });
    expect(day.series).toHaveLength(24 * 60);
    const points = (day.series as Json[]).filter((p) => p.requests > 0);
    expect(points).toHaveLength(HOURS);
    expect(points.reduce((n, p) => n + p.requests, 0)).toBe(2 * per);
    expect(points[0]!.routes).toMatchObject({ a: { requests: 6 }, b: { requests: 6 } });
    expect(day.topMisses).toHaveLength(2);
    expect(day.topMisses).toEqual(expect.arrayContaining([
      { url: expect.stringContaining(a), reason: "uri-miss", count: misses },
      { url: expect.stringContaining(b), reason: "uri-miss", count: misses },
    ]));

    clock.advance((24 - HOURS) * 3600 + 60);
    const later = (await locations[0]![0]!.admin("GET", "stats?window=24h")).json as Json;
    expect(later.total.requests).toBe(2 * per - 12);
  });

  it("a location's object that fails never fails a request: the isolate answers alone, logging once", async () => {
    let down = true;
    const clock = new TestClock();
    const h = adminHarness({
      routes,
      clock,
      env: { SITE_NAME: `stats-${crypto.randomUUID()}` },
      wrapStats: aroundStats((_m, _n, call) => (down ? Promise.reject(new Error("statistics down")) : call())),
    });
    const path = await scripted("down-objects");
    for (let i = 0; i < 3; i++) {
      expect((await h.get(path)).status).toBe(200);
      clock.advance(10);
    }
    const alone = (await h.admin("GET", "stats?window=15m")).json as Json;
    expect(alone).toMatchObject({ scope: "isolate", total: { requests: 3 } });
    expect(h.logs.filter((l) => l.msg === "stats-unavailable")).toHaveLength(1);
    down = false;
    expect(((await h.admin("GET", "stats?window=15m")).json as Json).scope).toBe("site");
  });
});
