import { describe, expect, it } from "vitest";
import { MINUTE_MS } from "../../src/stats/buckets";
import type { StatsApi } from "../../src/stats/client";
import { createIsolateStats, OWN_MINUTES, type RequestFacts } from "../../src/stats/recorder";

const MISS: RequestFacts = { method: "GET", status: 200, cacheStatus: "edge-cache; fwd=uri-miss; stored; ttl=60", timings: { origin: 12 }, bytes: 100 };
const route = (i: number) => ({ name: `route-${i}` }) as never;

/** A location's object that takes every flush (or refuses them all), counting them. */
function objects(refuse = false) {
  const flushed: string[] = [];
  const api = {
    add: async (batch: string) => {
      if (refuse) throw new Error("statistics down");
      flushed.push(batch);
      return { forwarded: true };
    },
  } as unknown as StatsApi;
  return { flushed, objects: { site: "s", location: () => api, history: () => api } };
}

/** 24 h of minutes, `perMinute` requests a minute over 8 routes, every URL new; a flush at each request due one. */
async function day(stats: ReturnType<typeof createIsolateStats>, clock: { t: number }, perMinute: number) {
  const waits: Promise<unknown>[] = [];
  const exec = { waitUntil: (p: Promise<unknown>) => void waits.push(p) } as unknown as ExecutionContext;
  for (let minute = 0; minute < 24 * 60; minute++) {
    for (let i = 0; i < perMinute; i++) {
      clock.t += MINUTE_MS / perMinute;
      stats.observe(MISS, new URL(`https://example.com/r${i % 8}/${minute}-${i}`), route(i % 8), exec);
    }
    await Promise.all(waits.splice(0));
  }
}

describe("an isolate's statistics after 24 h of clock time", () => {
  it("keeps its own last 15 minutes and nothing flushed: no day of history", async () => {
    const clock = { t: Date.UTC(2026, 0, 1) };
    const { flushed, objects: o } = objects();
    const stats = createIsolateStats({ now: () => clock.t, objects: o, log: () => {} });
    await day(stats, clock, 12);
    expect(stats.retained().own).toBeLessThanOrEqual(OWN_MINUTES);
    // Flushed every 10 s of traffic: what waits is the last 10 s, in one minute or two.
    expect(stats.retained().pending).toBeLessThanOrEqual(2);
    expect(flushed.length).toBeGreaterThanOrEqual(24 * 60);
  });

  it("keeps at most its own window while every flush is refused, logging once", async () => {
    const clock = { t: Date.UTC(2026, 0, 1) };
    const logs: Record<string, unknown>[] = [];
    const stats = createIsolateStats({ now: () => clock.t, objects: objects(true).objects, log: (l) => logs.push(l) });
    await day(stats, clock, 12);
    expect(stats.retained().own).toBeLessThanOrEqual(OWN_MINUTES);
    expect(stats.retained().pending).toBeLessThanOrEqual(OWN_MINUTES + 1);
    expect(logs.filter((l) => l.msg === "stats-unavailable")).toHaveLength(1);
  });
});
