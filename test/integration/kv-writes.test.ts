/**
 * KV writes that pay (docs/kv-writes.md): `kv.minHits` keeps one-off answers out
 * of KV, and an unchanged 304 refresh leaves the KV copy alone. KV puts are counted
 * through the createWorker `wrapKv` seam, on the real local KV.
 */
import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/index";
import type { RouteSettings } from "../../src/rules/types";
import { drive, originRules, TestClock } from "../support/harness";
import { overrideKv } from "../support/locations";
import { origin } from "../support/origin";
import { until } from "../support/until";

/** Locations over one KV, each with its own Cache API namespace; `puts` lists the entry keys written. */
function site(defaults: RouteSettings, getGate?: (n: number) => Promise<void>) {
  const clock = new TestClock();
  const puts: string[] = [];
  let gets = 0;
  const rules = originRules({ defaults });
  const run = crypto.randomUUID().slice(0, 8);
  const location = (i: number) =>
    drive(
      createWorker({
        clock,
        rules,
        log: () => {},
        cacheName: `kv-writes-${i}-${run}`,
        wrapKv: (kv) =>
          overrideKv(kv, (target) => ({
            ...(getGate && {
              getWithMetadata: async (...args: unknown[]) => {
                await getGate(++gets);
                return (target.getWithMetadata as (...a: unknown[]) => Promise<unknown>)(...args);
              },
            }),
            put: (key: string, ...rest: unknown[]) => (puts.push(key), (target.put as (...a: unknown[]) => Promise<void>)(key, ...rest)),
          })),
      }),
      clock,
    );
  const entryPuts = () => puts.filter((k) => k.startsWith("e:")).length;
  return { clock, location, entryPuts };
}

describe("kv.minHits", () => {
  it("1 (the default): the first answer is written to KV", async () => {
    const s = site({ ttl: { edge: 60, kv: 3600 } });
    const a = s.location(0);
    const p = origin.path();
    await origin.script(p, { body: "one" });
    await a.request(p);
    expect(s.entryPuts()).toBe(1);
    await a.request(p);
    expect(s.entryPuts()).toBe(1);
  });

  it("2: the first request stores at the edge only; the second copies the edge entry to KV, once; other locations read it", async () => {
    const s = site({ ttl: { edge: 60, kv: 3600 }, kv: { minHits: 2 } });
    const a = s.location(0);
    const p = origin.path();
    await origin.script(p, { body: "popular" });
    expect((await a.request(p)).cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=60");
    expect(s.entryPuts()).toBe(0);
    const second = await a.request(p);
    expect(second.cacheStatus).toMatch(/^edge-cache; hit; ttl=60; detail=edge$/);
    expect(second.text).toBe("popular");
    expect(s.entryPuts()).toBe(1);
    for (let i = 0; i < 3; i++) await a.request(p);
    expect(s.entryPuts()).toBe(1);
    const elsewhere = await s.location(1).request(p);
    expect(elsewhere.text).toBe("popular");
    expect(elsewhere.cacheStatus).toMatch(/detail=kv$/);
    expect(await origin.count(p)).toBe(1);
  });

  it("2: requests further apart than the answer's lifetime here never reach KV", async () => {
    const s = site({ ttl: { edge: 60, kv: 3600 }, kv: { minHits: 2 } });
    const a = s.location(0);
    const p = origin.path();
    await origin.script(p, { body: "rare {n}" });
    await a.request(p);
    // Past its lifetime and stale windows in the edge tier (60 s + 60 s kept for revalidation).
    s.clock.advance(121);
    expect((await a.request(p)).text).toBe("rare 2");
    expect(s.entryPuts()).toBe(0);
  });

  it("3 on a KV-only route: the third miss is written", async () => {
    const s = site({ ttl: { edge: 0, kv: 3600 }, origin: "override", status: { "200": 600 }, kv: { minHits: 3 } });
    const a = s.location(0);
    const p = origin.path();
    await origin.script(p, { body: "n{n}" });
    for (let i = 0; i < 2; i++) expect((await a.request(p)).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=no-tier");
    expect(s.entryPuts()).toBe(0);
    await a.request(p);
    expect(s.entryPuts()).toBe(1);
    expect((await a.request(p)).cacheStatus).toMatch(/detail=kv$/);
  });
});

describe("a lookup that reads KV while the answer is being stored", () => {
  it("reads the tiers again instead of fetching: one origin fetch, though KV never got the answer", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // The second KV read (the second request's) waits until the first request is done.
    const s = site({ ttl: { edge: 60, kv: 3600 }, kv: { minHits: 2 } }, (n) => (n === 2 ? gate : Promise.resolve()));
    const a = s.location(0);
    const p = origin.path();
    await origin.script(p, { hold: true, body: "once" });
    const first = a.start(p);
    await until(async () => (await origin.held(p)) === 1, "the first request reached the origin");
    const second = a.start(p);
    await origin.release(p);
    expect(await (await first.response).text()).toBe("once");
    await first.done();
    open();
    const res = await second.response;
    expect(await res.text()).toBe("once");
    expect(res.headers.get("cache-status")).toMatch(/^edge-cache; fwd=uri-miss; collapsed; ttl=60; detail=edge$/);
    await second.done();
    expect(await origin.count(p)).toBe(1);
  });
});

describe("a 304 refresh and KV", () => {
  it("unchanged: the edge entry is refreshed and KV is not written", async () => {
    const s = site({ ttl: { edge: 60, kv: 3600 } });
    const a = s.location(0);
    const p = origin.path();
    await origin.script(p, { body: "same", headers: { etag: '"s"', "x-kind": "page" } }, { status: 304, headers: { etag: '"s"', "x-kind": "page" } });
    await a.request(p);
    expect(s.entryPuts()).toBe(1);
    s.clock.advance(61);
    const refreshed = await a.request(p);
    expect(refreshed.cacheStatus).toBe("edge-cache; fwd=stale; fwd-status=304; stored; ttl=60; detail=edge");
    expect(refreshed.text).toBe("same");
    expect(s.entryPuts()).toBe(1);
    expect((await a.request(p)).cacheStatus).toBe("edge-cache; hit; ttl=60; detail=edge");
    expect(await origin.count(p)).toBe(2);
  });

  it("a 304 that changes a stored field rewrites the KV copy", async () => {
    const s = site({ ttl: { edge: 60, kv: 3600 } });
    const a = s.location(0);
    const p = origin.path();
    await origin.script(p, { body: "same", headers: { etag: '"s"', "x-kind": "page" } }, { status: 304, headers: { etag: '"s"', "x-kind": "article" } });
    await a.request(p);
    s.clock.advance(61);
    await a.request(p);
    expect(s.entryPuts()).toBe(2);
    const elsewhere = await s.location(1).request(p);
    expect(elsewhere.headers.get("x-kind")).toBe("article");
  });
});
