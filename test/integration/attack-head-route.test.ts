/**
 * Issue 21 item 1: a HEAD is answered from, and fills, the GET entry, so it is matched
 * as the GET would be (RFC 9110 §9.3.2): a route that takes only GET must not hand its
 * URLs to a later route for HEAD, whose lifetime and name the stored entry would carry.
 */
import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { origin } from "../support/origin";

describe("HEAD takes the route its GET takes", () => {
  it("a HEAD on a GET-only route stores under that route: the GET gets its lifetime, and its route purge reaches the entry", async () => {
    const prefix = origin.prefix();
    const h = adminHarness({
      defaults: { origin: "override" },
      routes: [
        { name: "prices", match: { path: `${prefix}/api/prices/*`, methods: ["GET"] }, ttl: { edge: 10 } },
        { name: "pages", match: { path: "/*" }, ttl: { edge: 3600 } },
      ],
    });
    const path = `${prefix}/api/prices/x`;
    await origin.script(path, { body: "price {n}" });
    const head = await h.get(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=10");
    const hit = await h.get(path);
    expect(hit.text).toBe("price 1");
    expect(hit.cacheStatus).toBe("edge-cache; hit; ttl=10; detail=edge");
    expect((await h.purge({ routes: ["prices"] })).status).toBe(200);
    h.clock.advance(1);
    const after = await h.get(path);
    expect(after.text).toBe("price 2");
    expect(after.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored; ttl=10/);
    expect(await origin.count(path)).toBe(2);
    // explain runs the very match: the HEAD is the GET's route.
    const explained = await h.explain(`url=${encodeURIComponent(`https://site.test${path}`)}&method=HEAD`);
    expect(explained.json?.route).toEqual(expect.objectContaining({ name: "prices" }));
  });
});
