/**
 * Origin health through the Worker (docs/origin-health.md): only the origin's failure
 * counts (a connection failure, or Cloudflare's "origin unreachable" statuses), never
 * one URL's answer; after N of them the isolate stops waiting for the origin, serves
 * stale at once or 503, lets one probe through after the cool-off, and asks the
 * fallback origin if any.
 */
import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/index";
import type { RouteSettings } from "../../src/rules/types";
import { compile, drive, harness, TestClock } from "../support/harness";
import { origin } from "../support/origin";
import { until } from "../support/until";

const health = { failures: 3, coolOff: 10 };
/** What a scripted origin does when the connection is lost before any response header. */
const reset = { reset: true } as const;

/** A Worker whose origin refuses every connection (nothing listens on port 9 of 127.0.0.1). */
function deadOrigin(defaults: RouteSettings) {
  const clock = new TestClock();
  const rules = compile({ version: 1, origin: "http://127.0.0.1:9", defaults, routes: [{ name: "all", match: { path: "/*" } }] });
  const worker = createWorker({ clock, rules, log: () => {} });
  const driver = drive(worker, clock);
  return { clock, ...driver, get: driver.request };
}

/**
 * `n` requests to one slow endpoint (distinct queries, so none collapses onto another),
 * all sent now and all timing out after `timeout` s; `meanwhile` runs 1 s after they were sent.
 */
async function timeOuts(h: ReturnType<typeof harness>, n: number, timeout: number, meanwhile?: () => Promise<void>) {
  const slow = origin.path("report");
  await origin.script(slow, { hold: true });
  const started = Array.from({ length: n }, (_, i) => h.start(`${slow}?i=${i}`));
  await until(async () => (await origin.held(slow)) === n, `${n} slow requests reach the origin`);
  if (meanwhile) {
    h.clock.advance(1);
    await meanwhile();
  }
  h.clock.advance(meanwhile ? timeout - 1 : timeout);
  for (const s of started) expect((await s.response).status).toBe(504);
  await Promise.all(started.map((s) => s.done()));
  await origin.release(slow);
}

describe("origin health: what counts as the origin's failure", () => {
  it("five 500s of one URL are answers: every other URL still gets the origin's 200, and so does the broken one", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 } } });
    const broken = origin.path("broken");
    await origin.script(broken, { status: 500, body: "bug" });
    for (let i = 0; i < 5; i++) expect((await h.get(broken)).status).toBe(500);
    for (const name of ["a", "b", "c"]) {
      const p = origin.path(name);
      const got = await h.get(p);
      expect(got.status).toBe(200);
      expect(got.text).toBe(`origin:${p}`);
      expect(got.cacheStatus).not.toMatch(/origin-down/);
    }
    expect((await h.get(broken)).text).toBe("bug");
    expect(await origin.count(broken)).toBe(6);
  });

  it("six timeouts of one slow endpoint are not an outage: other URLs keep getting 200 from the origin", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originTimeout: 2 } });
    await timeOuts(h, 6, 2);
    for (const name of ["a", "b"]) {
      const p = origin.path(name);
      expect((await h.get(p)).text).toBe(`origin:${p}`);
    }
  });

  it("a dead origin (connection refused) is still taken for down after N failures", async () => {
    const h = deadOrigin({ ttl: { edge: 60 }, originHealth: health });
    for (let i = 0; i < 3; i++) expect((await h.get(`/dead/${i}`)).status).toBe(502);
    const down = await h.get("/dead/other");
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("10");
    expect(down.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=origin-down");
  });

  it("Cloudflare's own 'origin unreachable' statuses (521, 522, 523, 525, 526, 530) are failures", async () => {
    for (const status of [521, 522, 523, 525, 526, 530]) {
      const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: health } });
      const p = origin.path();
      await origin.script(p, { status });
      for (let i = 0; i < 3; i++) expect((await h.get(p)).status).toBe(status);
      const down = await h.get(origin.path());
      expect({ status, down: down.status, cacheStatus: down.cacheStatus }).toEqual({ status, down: 503, cacheStatus: "edge-cache; fwd=uri-miss; detail=origin-down" });
      expect(await origin.count(p)).toBe(3);
    }
  });

  it("a failure stops counting once a request sent after it is answered", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, reset, reset, { body: "ok" }, reset, reset, { body: "ok again" });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await h.get(p)).status);
    expect(statuses).toEqual([502, 502, 200, 502, 502, 200]);
    expect(await origin.count(p)).toBe(6);
  });
});

describe("origin health: opting in to more (originHealth.count)", () => {
  it('count: ["5xx"]: N 500s in a row make the origin down', async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, originHealth: { ...health, count: ["5xx"] } } });
    const p = origin.path();
    await origin.script(p, { status: 500, body: "broken" });
    for (let i = 0; i < 3; i++) expect((await h.get(p)).status).toBe(500);
    const down = await h.get(origin.path());
    expect(down.status).toBe(503);
    expect(down.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=origin-down");
    expect(await origin.count(p)).toBe(3);
  });

  it('count: ["timeout"]: N timeouts in a row make the origin down', async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originTimeout: 2, originHealth: { ...health, count: ["timeout"] } } });
    await timeOuts(h, 3, 2);
    const down = await h.get(origin.path());
    expect(down.status).toBe(503);
    expect(down.cacheStatus).toMatch(/detail=origin-down$/);
  });

  it('count: ["timeout"]: timeouts of requests sent before another URL was answered do not count', async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originTimeout: 2, originHealth: { ...health, count: ["timeout"] } } });
    await timeOuts(h, 6, 2, async () => {
      expect((await h.get(origin.path("answered"))).status).toBe(200);
    });
    for (const name of ["a", "b"]) {
      const p = origin.path(name);
      expect((await h.get(p)).text).toBe(`origin:${p}`);
    }
  });
});

describe("origin health: while the origin is down", () => {
  it("503 at once with Retry-After and no-store, nothing sent to the origin", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, reset);
    for (let i = 0; i < 3; i++) expect((await h.get(p)).status).toBe(502);
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

  it("a stale entry is served at once (fwd=stale; detail=origin-down), even without stale-if-error", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, { body: "good", headers: { etag: '"g"' } }, reset);
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

  it("a must-revalidate entry is never served stale: 503", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, { body: "strict", headers: { "cache-control": "max-age=60, must-revalidate" } }, reset);
    await h.get(p);
    h.clock.advance(61);
    for (let i = 0; i < 3; i++) await h.get(p);
    const down = await h.get(p);
    expect(down.status).toBe(503);
    expect(down.cacheStatus).toBe("edge-cache; fwd=stale; detail=origin-down");
    expect(await origin.count(p)).toBe(4);
  });

  it("after the cool-off one probe goes; the others keep the down answer; its answer makes the origin up", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, reset, reset, reset, { hold: true, body: "back" }, { body: "up {n}" });
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

  it("a probe that gets a 500 finds the origin up: it answered", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: health } });
    const p = origin.path();
    await origin.script(p, reset, reset, reset, { status: 500 });
    for (let i = 0; i < 3; i++) await h.get(p);
    h.clock.advance(10);
    expect((await h.get(p)).status).toBe(500);
    const other = origin.path();
    expect((await h.get(other)).text).toBe(`origin:${other}`);
  });

  it("a failed probe doubles the cool-off, up to 300 s", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: { failures: 1, coolOff: 100 } } });
    const p = origin.path();
    await origin.script(p, reset);
    await h.get(p);
    expect((await h.get(p)).headers.get("retry-after")).toBe("100");
    h.clock.advance(100);
    expect((await h.get(p)).status).toBe(502); // the probe
    expect((await h.get(p)).headers.get("retry-after")).toBe("200");
    h.clock.advance(200);
    await h.get(p); // the second probe fails too
    expect((await h.get(p)).headers.get("retry-after")).toBe("300");
    h.clock.advance(299);
    expect((await h.get(p)).status).toBe(503);
    expect(await origin.count(p)).toBe(3);
  });

  it("fallbackOrigin is asked while the origin is down, and its answer is stored", async () => {
    const h = harness({
      defaults: { ttl: { edge: 60 }, originHealth: health },
      routes: [{ name: "all", match: { path: "/*" }, fallbackOrigin: `${origin.url}/backup` }],
    });
    const p = origin.path();
    await origin.script(p, reset);
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
    await origin.script(p, reset);
    await origin.script(`/backup${p}`, reset);
    for (let i = 0; i < 3; i++) await h.get(p);
    const got = await h.get(p);
    expect(got.status).toBe(503);
    expect(got.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=origin-down");
  });
});

describe("origin health: false", () => {
  it("keeps asking the origin, however often it fails", async () => {
    const h = harness({ defaults: { ttl: { edge: 0 }, originHealth: false } });
    const p = origin.path();
    await origin.script(p, reset);
    for (let i = 0; i < 8; i++) expect((await h.get(p)).status).toBe(502);
    expect(await origin.count(p)).toBe(8);
  });

  it("is never answered origin-down while other routes of the origin are down; its answer makes them up", async () => {
    const prefix = origin.prefix();
    const h = harness({
      defaults: { ttl: { edge: 0 }, originHealth: health },
      routes: [
        { name: "watched", match: { path: `${prefix}/w/*` } },
        { name: "unwatched", match: { path: `${prefix}/u/*` }, originHealth: false },
      ],
    });
    const broken = `${prefix}/w/broken`;
    await origin.script(broken, reset);
    for (let i = 0; i < 3; i++) expect((await h.get(broken)).status).toBe(502);
    expect((await h.get(`${prefix}/w/other`)).cacheStatus).toMatch(/detail=origin-down$/);
    const unwatched = await h.get(`${prefix}/u/page`);
    expect(unwatched.status).toBe(200);
    expect(unwatched.text).toBe(`origin:${prefix}/u/page`);
    // The origin answered a request sent after its failures: it is up for every route.
    expect((await h.get(`${prefix}/w/other`)).text).toBe(`origin:${prefix}/w/other`);
  });
});
