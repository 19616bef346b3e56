/**
 * Issue 10 item 2: with `stripSetCookie`, no write of stored headers keeps a
 * Set-Cookie, including the 304 of a revalidation (foreground and background).
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

describe("a 304's Set-Cookie is never stored", () => {
  it.each([
    ["in the foreground", {}],
    ["in the background (stale-while-revalidate)", { staleWhileRevalidate: 60 }],
  ])("%s: the attacker's revalidation brings a session cookie; the victim's hit carries none", async (_how, extra) => {
    const h = harness({ defaults: { ttl: { edge: 600 }, origin: "respect", stripSetCookie: true, ...extra } });
    const path = origin.path();
    await origin.script(
      path,
      { headers: { "cache-control": "max-age=1", etag: '"v1"' }, body: "page" },
      { status: 304, headers: { "cache-control": "max-age=600", etag: '"v1"', "set-cookie": "session=attacker-secret; Path=/" } },
    );
    expect((await h.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
    h.clock.advance(2);
    const attacker = await h.get(path);
    expect(attacker.status).toBe(200);
    expect(attacker.text).toBe("page");
    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("page");
    expect(victim.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(victim.headers.get("set-cookie")).toBeNull();
    expect(await origin.count(path)).toBe(2);
  });
});
