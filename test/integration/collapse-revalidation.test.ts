/**
 * Issue 21, item 8: concurrent revalidations of one expired entry join one flight, as
 * misses do (RFC 9111 §4.3.1 lets a cache validate once for many requests): the origin
 * sees one conditional request, and every request gets the entry's body and status.
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";
import { until } from "../support/until";

const N = 10;

/**
 * N requests at once while the origin holds its answer: once one is at the origin and
 * every one has a timer running (its origin timeout, or its wait for the flight), the
 * origin answers whatever it holds (again, until all are answered).
 */
async function concurrently(h: ReturnType<typeof harness>, path: string): Promise<{ responses: Response[]; bodies: string[] }> {
  const requests = Array.from({ length: N }, () => h.start(path));
  await until(async () => (await origin.held(path)) >= 1 && h.clock.waiting >= N, "every request is at the origin or waiting for it");
  let answered = 0;
  const responses = Promise.all(requests.map((r) => r.response.finally(() => answered++)));
  await until(async () => (await origin.release(path), answered === N), "every request answered");
  const out = await responses;
  const bodies = await Promise.all(out.map((r) => r.text()));
  await Promise.all(requests.map((r) => r.done()));
  return { responses: out, bodies };
}

describe("concurrent revalidations of one expired entry are collapsed", () => {
  it("a 304: one conditional request, every request gets the entry's body, refreshed", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 } } });
    const path = origin.path();
    await origin.script(path, { body: "entry", headers: { etag: '"v1"' } }, { hold: true, status: 304, headers: { etag: '"v1"' } });
    await h.get(path);
    h.clock.advance(61);
    const { responses, bodies } = await concurrently(h, path);
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    expect(bodies).toEqual(Array(N).fill("entry"));
    const seen = await origin.requests(path);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.headers["if-none-match"]).toBe('"v1"');
    const statuses = responses.map((r) => r.headers.get("cache-status"));
    expect(statuses.filter((s) => s === "edge-cache; fwd=stale; fwd-status=304; stored; ttl=60; detail=edge")).toHaveLength(1);
    expect(statuses.filter((s) => s === "edge-cache; fwd=stale; fwd-status=304; collapsed; ttl=60; detail=edge")).toHaveLength(N - 1);
    expect((await h.get(path)).cacheStatus).toBe("edge-cache; hit; ttl=60; detail=edge");
  });

  it("a new 200: one conditional request, every request gets the new body", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 } } });
    const path = origin.path();
    await origin.script(path, { body: "old", headers: { etag: '"v1"' } }, { hold: true, body: "new", headers: { etag: '"v2"' } });
    await h.get(path);
    h.clock.advance(61);
    const { responses, bodies } = await concurrently(h, path);
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    expect(bodies).toEqual(Array(N).fill("new"));
    expect(await origin.count(path)).toBe(2);
    const statuses = responses.map((r) => r.headers.get("cache-status"));
    expect(statuses.filter((s) => s === "edge-cache; fwd=stale; fwd-status=200; stored; ttl=60")).toHaveLength(1);
    expect(statuses.filter((s) => s === "edge-cache; fwd=stale; fwd-status=200; collapsed; ttl=60; detail=edge")).toHaveLength(N - 1);
  });

  it("an origin error: one request to the origin, every request gets the stale entry stale-if-error allows", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, staleIfError: 600 } });
    const path = origin.path();
    await origin.script(path, { body: "good", headers: { etag: '"v1"' } }, { hold: true, status: 503 });
    await h.get(path);
    h.clock.advance(61);
    const { responses, bodies } = await concurrently(h, path);
    expect(bodies).toEqual(Array(N).fill("good"));
    expect(responses.map((r) => r.headers.get("cache-status"))).toEqual(Array(N).fill("edge-cache; fwd=stale; fwd-status=503; ttl=-1; detail=edge"));
    expect(await origin.count(path)).toBe(2);
  });
});
