import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeTier } from "../../src/tiers/edge";
import { storageKey } from "../../src/tiers/two-tier";
import { harness, SITE, type TestClock } from "../support/harness";
import { origin } from "../support/origin";
import { until } from "../support/until";

const waitingOn = (clock: TestClock, n: number) => () => clock.waiting >= n;

describe("request collapsing (one origin fetch per key per isolate)", () => {
  it("50 concurrent cold requests: 1 origin fetch, every one gets the whole body", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 } } });
    const path = origin.path();
    await origin.script(path, { hold: true, body: "shared body" });
    const requests = Array.from({ length: 50 }, () => h.start(path));
    await until(async () => (await origin.held(path)) === 1, "the leader reached the origin");
    await origin.release(path);
    const responses = await Promise.all(requests.map((r) => r.response));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    await Promise.all(requests.map((r) => r.done()));
    expect(bodies.every((b) => b === "shared body")).toBe(true);
    expect(await origin.count(path)).toBe(1);
    const statuses = responses.map((r) => r.headers.get("cache-status"));
    expect(statuses.filter((s) => s === "edge-cache; fwd=uri-miss; stored; ttl=600")).toHaveLength(1);
    expect(statuses.filter((s) => s?.startsWith("edge-cache; fwd=uri-miss; collapsed;"))).toHaveLength(49);
  });

  it("an uncacheable answer releases the waiters to the origin, and is remembered (hit-for-pass)", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 } } });
    const path = origin.path();
    await origin.script(path, { hold: true, headers: { "cache-control": "private" }, body: "mine {n}" }, { headers: { "cache-control": "private" }, body: "mine {n}" });
    const a = h.start(path);
    const b = h.start(path);
    await until(async () => (await origin.held(path)) === 1, "the leader reached the origin");
    await origin.release(path);
    const [ra, rb] = await Promise.all([a.response, b.response]);
    expect(await ra.text()).toBe("mine 1");
    expect(await rb.text()).toBe("mine 2");
    await Promise.all([a.done(), b.done()]);
    expect(rb.headers.get("cache-status")).toBe("edge-cache; fwd=uri-miss; detail=private");
    // Within the memo, a new request goes straight to the origin without queueing.
    const c = await h.get(path);
    expect(c.text).toBe("mine 3");
  });

  it("a waiter that waits past the bound goes to the origin itself and does not store", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, originTimeout: 5 } });
    const path = origin.path();
    await origin.script(path, { holdBody: true, body: "slow leader" }, { body: "impatient" });
    const leader = h.start(path);
    await until(async () => (await origin.held(path)) === 1, "the leader's body is held");
    const waiter = h.start(path);
    await until(waitingOn(h.clock, 1), "the waiter is waiting");
    h.clock.advance(5);
    const w = await waiter.response;
    expect(await w.text()).toBe("impatient");
    expect(w.headers.get("cache-status")).toBe("edge-cache; fwd=uri-miss; detail=collapse-timeout");
    await waiter.done();
    await origin.release(path);
    expect(await (await leader.response).text()).toBe("slow leader");
    await leader.done();
    expect((await h.get(path)).text).toBe("slow leader");
    expect(await origin.count(path)).toBe(2);
  });
});

describe("origin timeout (per rule) and stale-if-error from either tier", () => {
  it("no response headers within originTimeout: 504, no-store", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, originTimeout: 3 } });
    const path = origin.path();
    await origin.script(path, { hold: true });
    const pending = h.start(path);
    await until(async () => (await origin.held(path)) === 1, "the origin holds the request");
    h.clock.advance(3);
    const res = await pending.response;
    expect(res.status).toBe(504);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("cache-status")).toBe("edge-cache; fwd=uri-miss; fwd-status=504");
    await pending.done();
    await origin.release(path);
  });

  it("a timeout on revalidation serves the stale entry", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, staleIfError: 600, originTimeout: 3 } });
    const path = origin.path();
    await origin.script(path, { body: "good" }, { hold: true });
    await h.get(path);
    h.clock.advance(61);
    const pending = h.start(path);
    await until(async () => (await origin.held(path)) === 1, "the origin holds the revalidation");
    h.clock.advance(3);
    const res = await pending.response;
    expect(await res.text()).toBe("good");
    expect(res.headers.get("cache-status")).toBe("edge-cache; fwd=stale; fwd-status=504; ttl=-4; detail=edge");
    await pending.done();
    await origin.release(path);
  });

  it("the KV copy is the last known good when the edge has lost the entry", async () => {
    const h = harness({ defaults: { ttl: { edge: 60, kv: 3600 }, staleIfError: 3600 } });
    const path = origin.path();
    await origin.script(path, { body: "global good" }, { status: 502 });
    await h.get(path);
    await edgeTier(caches.default).delete(await storageKey(`${SITE}${path}`, "site.test"));
    h.clock.advance(600);
    const got = await h.get(path);
    expect(got.status).toBe(200);
    expect(got.text).toBe("global good");
    expect(got.cacheStatus).toBe("edge-cache; fwd=stale; fwd-status=502; ttl=-540; detail=kv");
    void env;
  });

  it("stale-while-revalidate: at most one background refresh per key at a time", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, staleWhileRevalidate: 600 } });
    const path = origin.path();
    await origin.script(path, { body: "v1" }, { hold: true, body: "v2" });
    await h.get(path);
    h.clock.advance(90);
    const a = h.start(path);
    const b = h.start(path);
    const [ra, rb] = await Promise.all([a.response, b.response]);
    expect([await ra.text(), await rb.text()]).toEqual(["v1", "v1"]);
    await until(async () => (await origin.held(path)) === 1, "the refresh reached the origin");
    await origin.release(path);
    await Promise.all([a.done(), b.done()]);
    expect(await origin.count(path)).toBe(2);
    expect((await h.get(path)).text).toBe("v2");
  });
});

describe("unsafe methods (RFC 9111 §4.4)", () => {
  it("a successful POST invalidates the stored GET answer for its URL", async () => {
    const h = harness({
      routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 600, kv: 600 } }],
    });
    const path = origin.path();
    await origin.script(path, { body: "v{n}" });
    expect((await h.get(path)).text).toBe("v1");
    expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; hit/);
    const post = await h.request(path, { method: "POST", body: "change" });
    expect(post.cacheStatus).toBe("edge-cache; fwd=method; detail=method");
    const after = await h.get(path);
    expect(after.text).toBe("v3");
    expect(after.cacheStatus).toMatch(/fwd=uri-miss; stored/);
  });

  it("a failed POST leaves the entry alone", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 } } });
    const path = origin.path();
    await origin.script(path, { body: "kept" }, { status: 500 }, { body: "other" });
    await h.get(path);
    await h.request(path, { method: "DELETE" });
    expect((await h.get(path)).text).toBe("kept");
  });
});
