import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/index";
import { variantKey } from "../../src/policy/vary";
import { edgeTier } from "../../src/tiers/edge";
import type { VaryMeta } from "../../src/tiers/entry";
import { storageKey } from "../../src/tiers/two-tier";
import { drive, harness, originRules, SITE, TestClock } from "../support/harness";
import { overrideKv } from "../support/locations";
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

// Issue 20, item 2: the cap counts distinct variants, not stores.
describe("maxVariants counts distinct variants", () => {
  const gzip: RequestInit = { headers: { "accept-encoding": "gzip" } };
  const lang = (v: string): RequestInit => ({ headers: { "accept-language": v } });
  const refreshing = { "cache-control": "max-age=1" };

  it("100 refreshes of one variant (Vary: Accept-Encoding, max-age=1) stay cached", async () => {
    const h = harness();
    const path = origin.path();
    await origin.script(path, { headers: { vary: "Accept-Encoding", ...refreshing }, body: "v{n}" });
    expect((await h.get(path, gzip)).cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=1");
    for (let round = 2; round <= 100; round++) {
      h.clock.advance(2);
      const refreshed = await h.get(path, gzip);
      expect(refreshed.text).toBe(`v${round}`);
      expect(refreshed.cacheStatus, `refresh ${round}`).toBe("edge-cache; fwd=stale; fwd-status=200; stored; ttl=1");
      const hit = await h.get(path, gzip);
      expect(hit.cacheStatus, `hit after refresh ${round}`).toMatch(/^edge-cache; hit;/);
      expect(hit.text).toBe(`v${round}`);
    }
    expect(await origin.count(path)).toBe(100);
  });

  it("at the cap, stored variants keep being refreshed; only a new one passes through", async () => {
    const h = harness({ defaults: { maxVariants: 3 } });
    const path = origin.path();
    await origin.script(path, { headers: { vary: "Accept-Language", ...refreshing }, body: "v{n}" });
    for (const l of ["a", "b", "c"]) expect((await h.get(path, lang(l))).cacheStatus).toMatch(/stored/);
    for (let round = 0; round < 20; round++) {
      h.clock.advance(2);
      for (const l of ["a", "b", "c"]) expect((await h.get(path, lang(l))).cacheStatus, `${l}, round ${round}`).toMatch(/stored/);
    }
    expect((await h.get(path, lang("d"))).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=variant-cap");
    expect((await h.get(path, lang("a"))).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(await origin.count(path)).toBe(3 + 60 + 1);
  });

  it("a variant whose stored copy is gone (evicted, purged) is stored again at no cost", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, maxVariants: 2 } });
    const path = origin.path();
    await origin.script(path, { headers: { vary: "accept-language" }, body: "v{n}" });
    await h.get(path, lang("a"));
    await h.get(path, lang("b"));
    const edge = edgeTier(caches.default);
    const primary = await storageKey(`${SITE}${path}`, "site.test");
    const index = await edge.get(primary);
    if (index?.meta.kind !== "vary") throw new Error("no Vary index at the edge");
    const variantA = await storageKey(variantKey(primary.key, index.meta.epoch, index.meta.vary, new Headers(lang("a").headers)), "site.test");
    for (let i = 1; i <= 3; i++) {
      // The Cache API evicts what it likes: variant a's copy goes, its index stays.
      await edge.delete(variantA);
      expect((await h.get(path, lang("a"))).cacheStatus, `a stored again, time ${i}`).toBe("edge-cache; fwd=uri-miss; stored; ttl=600");
    }
    expect((await h.get(path, lang("a"))).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect((await h.get(path, lang("b"))).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect((await h.get(path, lang("c"))).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=variant-cap");
    expect(await origin.count(path)).toBe(2 + 3 + 1);
  });

  it("an index written before the list of variants (a count at the cap) is read: its variants are listed as they are stored", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, maxVariants: 2 } });
    const path = origin.path();
    await origin.script(path, { headers: { vary: "accept-language" }, body: "v{n}" });
    const primary = await storageKey(`${SITE}${path}`, "site.test");
    const now = h.clock.now();
    const legacy: VaryMeta = { v: 1, kind: "vary", key: primary.key, storedAt: now, route: "all", tags: [], vary: ["accept-language"], epoch: now, variants: 16 };
    await edgeTier(caches.default).put(primary, legacy, null, 600);
    expect((await h.get(path, lang("a"))).cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=600");
    expect((await h.get(path, lang("b"))).cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=600");
    expect((await h.get(path, lang("c"))).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=variant-cap");
    expect((await h.get(path, lang("a"))).text).toBe("v1");
    const index = await edgeTier(caches.default).get(primary);
    expect(index?.meta).toMatchObject({ epoch: now, variants: 2 });
  });

  it("a variant not stored again within its copy's retention frees its slot", async () => {
    // max-age=1: each copy is kept 61 s (60 s past its windows, for revalidation).
    const h = harness({ defaults: { maxVariants: 2 } });
    const path = origin.path();
    await origin.script(path, { headers: { vary: "Accept-Language", ...refreshing }, body: "v{n}" });
    await h.get(path, lang("a"));
    await h.get(path, lang("b"));
    // b keeps being refreshed (and so keeps the index alive); a is never asked again.
    for (let t = 0; t < 150; t += 30) {
      h.clock.advance(30);
      expect((await h.get(path, lang("b"))).cacheStatus).toMatch(/stored/);
    }
    expect((await h.get(path, lang("c"))).cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=1");
    expect((await h.get(path, lang("d"))).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=variant-cap");
  });

  it("refreshing a variant rewrites its Vary index in KV once, not on every store (KV: one write a second per key)", async () => {
    const clock = new TestClock();
    const puts: string[] = [];
    const wrapKv = (kv: KVNamespace) =>
      overrideKv(kv, (target) => ({
        put: (key: string, value: never, options?: KVNamespacePutOptions) => (puts.push(key), target.put(key, value, options)),
      }));
    const rules = originRules({ defaults: { ttl: { kv: 600 } } });
    const h = drive(createWorker({ clock, rules, log: () => {}, wrapKv }), clock);
    const path = origin.path();
    await origin.script(path, { headers: { vary: "Accept-Encoding", ...refreshing }, body: "v{n}" });
    const primary = `e:${(await storageKey(`${SITE}${path}`, "site.test")).hash}`;
    for (let round = 0; round < 10; round++) {
      clock.advance(2);
      expect((await h.request(path, gzip)).cacheStatus).toMatch(/stored/);
    }
    expect(puts.filter((k) => k === primary)).toHaveLength(1);
    expect(puts.filter((k) => k.startsWith("e:") && k !== primary)).toHaveLength(10);
  });
});
