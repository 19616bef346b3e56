import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { coordinatorFor } from "../../src/coordinator/client";
import type { Coordinator } from "../../src/coordinator/object";
import type { WorkerEnv } from "../../src/env";
import { targetHash } from "../../src/purge/index-table";
import { newestRows, purgesSince, recordPurge } from "../../src/purge/log";
import { applyPurge, emptyPurgeState, parsePurgeState } from "../../src/purge/records";
import { createSiteState } from "../../src/coordinator/site-state";
import { PURGE_BOUND_MS, PURGE_REFRESH_MS, PURGE_WAIT_MS } from "../../src/purge/state";
import { SITE, TestClock } from "../support/harness";
import { aroundCoordinator, delayedKv, locations } from "../support/locations";
import { origin } from "../support/origin";
import { until } from "../support/until";

const EDGE_ONLY = { routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 600, kv: 0 } }] };
const MAX_AGE = { "cache-control": "max-age=600" };
const bound = PURGE_BOUND_MS / 1000 + 0.1;

type Site = ReturnType<typeof locations>["sites"][number];

async function warm(sites: Site[], path: string) {
  for (const s of sites) expect((await s.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
  for (const s of sites) expect((await s.get(path)).cacheStatus).toMatch(/hit; .*detail=edge$/);
}

function stub(site: string) {
  return env.COORDINATOR.get(env.COORDINATOR.idFromName(site));
}

describe("purges through the coordinator, across locations", () => {
  it("answers with its sequence once recorded, and every location stops serving the URL within the bound", async () => {
    const { clock, sites } = locations(3, EDGE_ONLY);
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    await warm(sites, path);
    expect(await origin.count(path)).toBe(3);

    const first = await sites[0]!.purge({ urls: [path] });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ sequence: 1 });
    expect((await sites[1]!.purge({ tags: ["other"] })).json).toMatchObject({ sequence: 2 });
    // The isolate that took it applies it at once.
    expect((await sites[0]!.get(path)).cacheStatus).toMatch(/fwd=uri-miss/);

    clock.advance(bound);
    for (const s of sites.slice(1)) expect((await s.get(path)).cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await origin.count(path)).toBe(6);
  });

  it("keeps the coordinator off the hot path: a refresh runs in the background, and is awaited only past the bound", async () => {
    const calls: string[] = [];
    let hold: Promise<void> | null = null;
    const { clock, sites } = locations(1, {
      ...EDGE_ONLY,
      wrapCoordinator: () =>
        aroundCoordinator(async (method, call) => {
          // The statistics' background flushes are another feature's calls (src/stats).
          if (method.startsWith("stats")) return call();
          calls.push(method);
          if (hold) await hold;
          return call();
        }),
    });
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    const [s] = sites;
    await s!.get(path);
    await s!.get(path);
    expect(calls).toEqual(["since"]);

    // Older than the refresh period: served at once, refreshed behind it (held here, so never awaited).
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    clock.advance(PURGE_REFRESH_MS / 1000);
    const behind = s!.start(path);
    const served = await behind.response;
    expect(served.headers.get("cache-status")).toMatch(/hit/);
    await served.body?.cancel();
    await until(() => calls.length === 2, "the refresh asked the coordinator");
    expect(calls).toEqual(["since", "since"]);
    release();
    await behind.done();

    // Older than the bound: the request waits, but only briefly, then serves what it has.
    hold = new Promise<void>((r) => (release = r));
    clock.advance(bound);
    const waiting = s!.start(path);
    await until(() => clock.waiting === 2);
    clock.advance(PURGE_WAIT_MS / 1000);
    const res = await waiting.response;
    expect(res.headers.get("cache-status")).toMatch(/hit/);
    await res.body?.cancel();
    release();
    await waiting.done();
    expect(calls).toEqual(["since", "since", "since"]);
  });

  it("an unreachable coordinator: the KV copy serves, one log line per outage, and a purge is refused for retry", async () => {
    const failing = aroundCoordinator(async () => {
      throw new Error("coordinator down");
    });
    const { clock, sites, site } = locations(2, { ...EDGE_ONLY, wrapCoordinator: (i) => (i === 1 ? failing : undefined) });
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    await warm(sites, path);

    expect((await sites[0]!.purge({ urls: [path] })).status).toBe(200);
    // The coordinator writes its KV copy a second after a change (an alarm); run it now.
    expect(await runDurableObjectAlarm(stub(site))).toBe(true);
    clock.advance(bound);
    expect((await sites[1]!.get(path)).cacheStatus).toMatch(/fwd=uri-miss/);
    const fallbacks = sites[1]!.logs.filter((l) => l.msg === "coordinator-unavailable");
    // One line per outage (the first read that fell back), not one per read.
    expect(fallbacks).toEqual([expect.objectContaining({ part: "state", fallback: "kv", error: "coordinator down" })]);

    const refused = await sites[1]!.purge({ urls: [path] });
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ error: "purge-not-recorded" });
    expect(refused.headers.get("retry-after")).toBe("2");
  });

  it("KV alone loses a purge under concurrent purges from two locations; the coordinator loses none of 20 sent through 4", async () => {
    const { clock, sites } = locations(4, { ...EDGE_ONLY, wrapKv: undefined });
    const view = delayedKv(clock, 60_000);
    const kvAt = (i: number) => view(env.CACHE_KV, i);

    // The old design: each location reads the one KV value, adds its purge, writes it back.
    const key = `purge:v1:race-${crypto.randomUUID()}`;
    const oldPurge = async (location: number, url: string) => {
      const text = await kvAt(location).get(key, "text");
      const state = (text && parsePurgeState(JSON.parse(text))) || emptyPurgeState();
      await kvAt(location).put(key, JSON.stringify(applyPurge(state, { kind: "urls", values: [url] }, false, clock.now())));
    };
    await oldPurge(0, `${SITE}/a`);
    clock.advance(1);
    await oldPurge(1, `${SITE}/b`);
    clock.advance(61);
    const final = parsePurgeState(JSON.parse((await kvAt(2).get(key, "text"))!))!;
    expect(Object.keys(final.urls)).toEqual([`${SITE}/b`]);

    // The coordinator, with every location's KV delayed the same way.
    const delayed = locations(4, { ...EDGE_ONLY, wrapKv: (kv, i) => view(kv, i) });
    const paths = Array.from({ length: 20 }, () => origin.path());
    for (const p of paths) await origin.script(p, { body: "v1", headers: MAX_AGE });
    for (const p of paths) await delayed.sites[3]!.get(p);
    const answers = await Promise.all(paths.map((p, i) => delayed.sites[i % 4]!.purge({ urls: [p] })));
    expect(answers.map((a) => a.status)).toEqual(paths.map(() => 200));
    expect(answers.map((a) => a.json!.sequence).sort((x, y) => Number(x) - Number(y))).toEqual(paths.map((_, i) => i + 1));
    delayed.clock.advance(bound);
    for (const p of paths) expect((await delayed.sites[3]!.get(p)).cacheStatus).toMatch(/fwd=uri-miss/);
  });

  it("survives a coordinator restart: the records and the sequence carry on", async () => {
    const { clock, sites, site } = locations(2, EDGE_ONLY);
    const path = origin.path();
    await origin.script(path, { body: "v1", headers: MAX_AGE });
    await warm(sites, path);
    expect((await sites[0]!.purge({ urls: [path] })).json).toMatchObject({ sequence: 1 });
    await abortAllDurableObjects();
    expect((await sites[0]!.purge({ tags: ["t"] })).json).toMatchObject({ sequence: 2 });
    const fresh = locations(1, { ...EDGE_ONLY, site });
    fresh.clock.t = clock.t;
    expect((await fresh.sites[0]!.get(path)).cacheStatus).toMatch(/fwd=uri-miss/);
  });

  it("holds 100,000 URL purges in a few MB per isolate, with no fold into a purge of everything", async () => {
    const site = `site-${crypto.randomUUID()}`;
    const api = coordinatorFor(env as WorkerEnv, site);
    const at = Date.now();
    for (let i = 0; i < 100; i++) {
      const values = Array.from({ length: 1000 }, (_, j) => `${SITE}/page-${i * 1000 + j}`);
      await api.recordPurge({ site, target: { kind: "urls", values }, soft: false, at, horizonMs: 86_400_000 });
    }
    const clock = new TestClock();
    const shared = createSiteState({ site, location: "test", isolate: "test", coordinator: () => coordinatorFor(env as WorkerEnv, site), copies: null, kv: env.CACHE_KV, clock, log: () => {}, seed: async () => null, report: () => ({ sequence: 0, version: null, source: "none" }) });
    const view = (await shared.get()).purges;
    expect(view.sequence).toBe(100);
    expect(view.size).toBe(100_000);
    expect(view.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    const stored = { storedAt: at - 1, route: "all", tags: [] };
    expect(view.verdict(stored, new URL(`${SITE}/page-99999`))).toBe("hard");
    expect(view.verdict(stored, new URL(`${SITE}/page-0`))).toBe("hard");
    expect(view.verdict(stored, new URL(`${SITE}/not-purged`))).toBe(null);
  }, 60_000);
});

describe("a cold load of the purge log", () => {
  it("is the newest rows and the floor below which the rest is revalidated, never the oldest rows", async () => {
    const site = `site-${crypto.randomUUID().slice(0, 8)}`;
    const got = await runInDurableObject(stub(site), async (_instance: Coordinator, state) => {
      const sql = state.storage.sql;
      const start = Date.now();
      for (let i = 0; i < 10; i++) recordPurge(sql, { site, target: { kind: "urls", values: [`${SITE}/old-${i}`] }, soft: false, at: start + i * 1000, horizonMs: 0 }, start);
      const newest = newestRows(sql, 4);
      return { start, rows: [...newest.rows], floor: newest.floor, cold: purgesSince(sql, 0), delta: purgesSince(sql, 9) };
    });
    const hashes = (rows: number[]) => rows.filter((_, i) => i % 3 === 0);
    const urls = (...n: number[]) => n.map((i) => targetHash("urls", `${SITE}/old-${i}`));
    expect(hashes(got.rows).sort()).toEqual(urls(6, 7, 8, 9).sort());
    // The newest row left out (the 6th purge) sets the floor: an entry stored before it is revalidated.
    expect(got.floor).toBe(got.start + 5000);
    expect(got.cold).toMatchObject({ cold: true, sequence: 10 });
    expect(hashes([...got.cold.rows]).length).toBe(10);
    expect(got.delta).toMatchObject({ cold: false, sequence: 10 });
    expect(hashes([...got.delta.rows])).toEqual(urls(9));
  });
});
