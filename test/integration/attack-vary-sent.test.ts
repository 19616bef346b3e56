/**
 * Issue 10, item 6: variants keyed on what the origin saw. The route strips cookies
 * (none is keyed), so the origin never sees one: its `Vary: Cookie` answer is the
 * same for everybody, and random cookies or user agents must not make new variants.
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

describe("Vary is matched on the headers the origin was sent", () => {
  it("20 requests with random cookies and user agents do not fill maxVariants; the URL stays cached", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, maxVariants: 16 } });
    const path = origin.path();
    await origin.script(path, { body: "page v{n}", headers: { vary: "Cookie", "cache-control": "max-age=600" } });

    for (let i = 0; i < 20; i++) {
      const random = crypto.randomUUID();
      const got = await h.get(path, { headers: { cookie: `junk${i}=${random}; tracker=${random}`, "user-agent": `bot/${random}` } });
      expect(got.status).toBe(200);
      expect(got.text).toBe("page v1");
    }
    // The origin saw one request, without any cookie.
    const seen = await origin.requests(path);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.cookie).toBeUndefined();

    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("page v1");
    expect(victim.cacheStatus).toMatch(/^edge-cache; hit/);
    expect(await origin.count(path)).toBe(1);
  });

  it("a keyed cookie still selects its own variant, on its value as sent", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, key: { cookies: ["lang"] } } });
    const path = origin.path();
    await origin.script(path, { body: "page v{n}", headers: { vary: "Cookie", "cache-control": "max-age=600" } });

    expect((await h.get(path, { headers: { cookie: "lang=de; junk=1" } })).text).toBe("page v1");
    const same = await h.get(path, { headers: { cookie: "junk=2; lang=de" } });
    expect(same.text).toBe("page v1");
    expect(same.cacheStatus).toMatch(/^edge-cache; hit/);
    const other = await h.get(path, { headers: { cookie: "lang=fr" } });
    expect(other.text).toBe("page v2");
    expect(await origin.count(path)).toBe(2);
  });
});
