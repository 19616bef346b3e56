/**
 * Both revalidation paths take a 304 by the same rule (RFC 9111 §4.3.4): one that
 * selects another representation never refreshes the entry we hold.
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

const path = () => `/r304-${crypto.randomUUID().slice(0, 8)}`;

describe("a 304 that selects another representation", () => {
  it("foreground: is not used; the whole answer is fetched and replaces the entry", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 } } });
    const p = path();
    await origin.script(
      p,
      { body: "one", headers: { etag: '"v1"' } },
      { status: 304, headers: { etag: '"v2"' } },
      { body: "two", headers: { etag: '"v2"' } },
    );
    expect((await h.get(p)).cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
    h.clock.advance(61);
    const again = await h.get(p);
    expect(again.status).toBe(200);
    expect(again.text).toBe("two");
    expect(again.cacheStatus).toMatch(/^edge-cache; fwd=stale; fwd-status=200; stored/);
    const seen = await origin.requests(p);
    expect(seen).toHaveLength(3);
    expect(seen[1]?.headers["if-none-match"]).toBe('"v1"');
    expect(seen[2]?.headers["if-none-match"]).toBeUndefined();
    expect((await h.get(p)).text).toBe("two");
  });

  it("background (stale-while-revalidate): is not used; the stale entry is not refreshed", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, staleWhileRevalidate: 600 } });
    const p = path();
    await origin.script(p, { body: "one", headers: { etag: '"v1"' } }, { status: 304, headers: { etag: '"v2"' } });
    await h.get(p);
    h.clock.advance(61);
    expect((await h.get(p)).cacheStatus).toMatch(/^edge-cache; hit; ttl=-1; detail=edge\/stale-while-revalidate$/);
    expect(await origin.count(p)).toBe(2);
    // Still stale: the mismatched 304 did not make it fresh.
    expect((await h.get(p)).cacheStatus).toMatch(/detail=edge\/stale-while-revalidate$/);
  });

  it("background: a matching 304 refreshes the entry", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, staleWhileRevalidate: 600 } });
    const p = path();
    await origin.script(p, { body: "one", headers: { etag: '"v1"' } }, { status: 304, headers: { etag: '"v1"' } });
    await h.get(p);
    h.clock.advance(61);
    await h.get(p);
    const fresh = await h.get(p);
    expect(fresh.cacheStatus).toMatch(/^edge-cache; hit; ttl=60; detail=edge$/);
    expect(fresh.text).toBe("one");
  });
});
