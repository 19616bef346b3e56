/**
 * Origin health through the Worker (README "Origin health"): after N consecutive
 * failures the isolate stops waiting for the origin, serves stale at once or 503,
 * lets one probe through after the cool-off, and asks the fallback origin if any.
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";
import { until } from "../support/until";

const health = { failures: 3, coolOff: 10 };

describe("origin health", () => {
  it("after N consecutive 5xx: 503 at once with Retry-After and no-store, nothing sent to the origin", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, { status: 500, body: "broken" });
    for (let i = 0; i < 3; i++) expect((await h.get(p)).status).toBe(500);
    const down = await h.get(p);
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("10");
    expect(down.headers.get("cache-control")).toBe("no-store");
    expect(down.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=origin-down");
    expect(await origin.count(p)).toBe(3);
    h.clock.advance(4);
    expect((await h.get(p)).headers.get("retry-after")).toBe("6");
    expect(await origin.count(p)).toBe(3);
  });

  it("a success in between resets the count: only consecutive failures make the origin down", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, { status: 502 }, { status: 502 }, { body: "ok" }, { status: 502 }, { status: 502 }, { body: "ok again" });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await h.get(p)).status);
    expect(statuses).toEqual([502, 502, 200, 502, 502, 200]);
    expect(await origin.count(p)).toBe(6);
  });

  it("connection errors and timeouts count as failures", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, originTimeout: 2, originHealth: { failures: 2, coolOff: 10 } } });
    const p = origin.path();
    await origin.script(p, { reset: true }, { hold: true });
    expect((await h.get(p)).status).toBe(502);
    const slow = h.start(p);
    await until(async () => (await origin.held(p)) === 1, "the origin holds the request");
    h.clock.advance(2);
    expect((await slow.response).status).toBe(504);
    await slow.done();
    await origin.release(p);
    const down = await h.get(p);
    expect(down.status).toBe(503);
    expect(down.cacheStatus).toMatch(/detail=origin-down$/);
    expect(await origin.count(p)).toBe(2);
  });

  it("while down, a stale entry is served at once (fwd=stale; detail=origin-down), even without stale-if-error", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, { body: "good", headers: { etag: '"g"' } }, { reset: true });
    expect((await h.get(p)).text).toBe("good");
    h.clock.advance(61);
    // Up: each revalidation waits for the origin and fails (no stale-if-error window).
    for (let i = 0; i < 3; i++) expect((await h.get(p)).status).toBe(502);
    const stale = await h.get(p);
    expect(stale.status).toBe(200);
    expect(stale.text).toBe("good");
    expect(stale.cacheStatus).toMatch(/^edge-cache; fwd=stale; ttl=-\d+; detail=origin-down$/);
    expect(await origin.count(p)).toBe(4);
  });

  it("a must-revalidate entry is never served stale: 503 while down", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, { body: "strict", headers: { "cache-control": "max-age=60, must-revalidate" } }, { status: 503 });
    await h.get(p);
    h.clock.advance(61);
    for (let i = 0; i < 3; i++) await h.get(p);
    const down = await h.get(p);
    expect(down.status).toBe(503);
    expect(down.cacheStatus).toBe("edge-cache; fwd=stale; detail=origin-down");
    expect(await origin.count(p)).toBe(4);
  });

  it("after the cool-off one probe goes; the others keep the down answer; its success makes the origin up", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, { status: 500 }, { status: 500 }, { status: 500 }, { hold: true, body: "back" }, { body: "up {n}" });
    for (let i = 0; i < 3; i++) await h.get(p);
    h.clock.advance(10);
    const probe = h.start(p);
    await until(async () => (await origin.held(p)) === 1, "the probe reached the origin");
    const other = await h.get(p);
    expect(other.status).toBe(503);
    expect(other.cacheStatus).toMatch(/detail=origin-down$/);
    await origin.release(p);
    const probed = await probe.response;
    expect(await probed.text()).toBe("back");
    await probe.done();
    expect((await h.get(p)).text).toBe("up 5");
    expect(await origin.count(p)).toBe(5);
  });

  it("a failed probe doubles the cool-off, up to 300 s", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: { failures: 1, coolOff: 100 } } });
    const p = origin.path();
    await origin.script(p, { status: 500 });
    await h.get(p);
    expect((await h.get(p)).headers.get("retry-after")).toBe("100");
    h.clock.advance(100);
    expect((await h.get(p)).status).toBe(500); // the probe
    expect((await h.get(p)).headers.get("retry-after")).toBe("200");
    h.clock.advance(200);
    await h.get(p); // the second probe fails too
    expect((await h.get(p)).headers.get("retry-after")).toBe("300");
    h.clock.advance(299);
    expect((await h.get(p)).status).toBe(503);
    expect(await origin.count(p)).toBe(3);
  });

  it("originHealth: false keeps asking the origin", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: false } });
    const p = origin.path();
    await origin.script(p, { status: 500 });
    for (let i = 0; i < 8; i++) expect((await h.get(p)).status).toBe(500);
    expect(await origin.count(p)).toBe(8);
  });

  it("fallbackOrigin is asked while the origin is down, and its answer is stored", async () => {
    const h = harness({
      defaults: { ttl: { edge: 60 }, originHealth: health },
      routes: [{ name: "all", match: { path: "/*" }, fallbackOrigin: `${origin.url}/backup` }],
    });
    const p = origin.path();
    await origin.script(p, { status: 500 });
    await origin.script(`/backup${p}`, { body: "from the backup" });
    for (let i = 0; i < 3; i++) await h.get(p);
    const got = await h.get(p);
    expect(got.text).toBe("from the backup");
    expect(got.cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=60; detail=fallback-origin");
    expect((await h.get(p)).cacheStatus).toMatch(/^edge-cache; hit/);
    expect(await origin.count(p)).toBe(3);
    expect(await origin.count(`/backup${p}`)).toBe(1);
  });

  it("a fallback origin that fails too gives the down answer", async () => {
    const h = harness({
      defaults: { ttl: { edge: 60 }, originHealth: health },
      routes: [{ name: "all", match: { path: "/*" }, fallbackOrigin: `${origin.url}/backup` }],
    });
    const p = origin.path();
    await origin.script(p, { status: 500 });
    await origin.script(`/backup${p}`, { reset: true });
    for (let i = 0; i < 3; i++) await h.get(p);
    const got = await h.get(p);
    expect(got.status).toBe(503);
    expect(got.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=origin-down");
  });
});
