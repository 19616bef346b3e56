import { describe, expect, it } from "vitest";
import { edgeTier } from "../../src/tiers/edge";
import { storageKey } from "../../src/tiers/two-tier";
import { harness, SITE } from "../support/harness";
import { origin } from "../support/origin";

// RFC 9111 §4.1: the Cache API ignores Vary for our entries, so we keep one entry per
// variant, selected by the request's values of the headers the response names.
describe("Vary (RFC 9111 §4.1)", () => {
  const h = harness({ defaults: { ttl: { edge: 600, kv: 600 }, maxVariants: 3 } });
  const lang = (v?: string): RequestInit => ({ headers: v === undefined ? {} : { "accept-language": v } });

  it("one entry per variant; each request gets its own", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { vary: "Accept-Language" }, body: "v{n}" });
    expect((await h.get(path, lang("en"))).text).toBe("v1");
    expect((await h.get(path, lang("de"))).text).toBe("v2");
    const en = await h.get(path, lang("en"));
    expect(en.text).toBe("v1");
    expect(en.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(en.headers.get("vary")).toBe("Accept-Language");
    expect((await h.get(path, lang("de"))).text).toBe("v2");
    expect(await origin.count(path)).toBe(2);
  });

  it("an absent header is not the same as an empty one", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { vary: "accept-language" }, body: "v{n}" });
    expect((await h.get(path, lang())).text).toBe("v1");
    expect((await h.get(path, lang(""))).text).toBe("v2");
    expect((await h.get(path, lang())).text).toBe("v1");
  });

  it("header names are case-insensitive and whitespace in values is folded", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { vary: "ACCEPT-LANGUAGE" }, body: "v{n}" });
    await h.get(path, { headers: { "Accept-Language": "en,  fr" } });
    expect((await h.get(path, { headers: { "accept-language": "en, fr" } })).text).toBe("v1");
  });

  it("Accept-Encoding is normalized into a few buckets", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { vary: "Accept-Encoding" }, body: "v{n}" });
    await h.get(path, { headers: { "accept-encoding": "gzip, deflate" } });
    expect((await h.get(path, { headers: { "accept-encoding": "deflate, gzip;q=1.0" } })).text).toBe("v1");
    expect((await h.get(path, { headers: { "accept-encoding": "gzip, deflate, br" } })).text).toBe("v2");
    expect((await h.get(path, { headers: { "accept-encoding": "br" } })).text).toBe("v2");
  });

  it("past the cap of variants per URL: passed through, reason in Cache-Status", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { vary: "accept-language" }, body: "v{n}" });
    for (const l of ["a", "b", "c"]) await h.get(path, lang(l));
    const fourth = await h.get(path, lang("d"));
    expect(fourth.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=variant-cap");
    expect((await h.get(path, lang("d"))).text).toBe("v5");
    expect((await h.get(path, lang("a"))).text).toBe("v1");
  });

  it("variants live in KV too: with the edge emptied, KV still tells them apart", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { vary: "accept-language" }, body: "v{n}" });
    await h.get(path, lang("en"));
    await h.get(path, lang("de"));
    // Drop the Vary index from the edge: the lookup must go to KV and follow KV's index.
    await edgeTier(caches.default).delete(await storageKey(`${SITE}${path}`, "site.test"));
    const de = await h.get(path, lang("de"));
    expect(de.text).toBe("v2");
    expect(de.cacheStatus).toMatch(/detail=kv/);
    expect((await h.get(path, lang("en"))).text).toBe("v1");
    expect(await origin.count(path)).toBe(2);
  });

  it("after an invalidation, old variants are never found again (new epoch)", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { vary: "accept-language" }, body: "v{n}" });
    await h.get(path, lang("en"));
    await h.request(path, { method: "POST" });
    expect((await h.get(path, lang("en"))).text).toBe("v3");
  });
});
