import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/policy/digest";
import { harness } from "../support/harness";
import { origin, patternBytes } from "../support/origin";


describe("delivery", () => {
  const h = harness({ defaults: { ttl: { edge: 600, kv: 600 } } });

  it("a 1 MiB body comes through miss, edge hit and KV hit unchanged", async () => {
    const path = origin.path("big.bin");
    const size = 1024 * 1024;
    await origin.script(path, { bodyBytes: size, headers: { "content-type": "application/octet-stream" } });
    const expected = await sha256Hex(patternBytes(size));
    const miss = await h.get(path);
    expect(miss.bytes.length).toBe(size);
    expect(await sha256Hex(miss.bytes)).toBe(expected);
    const hit = await h.get(path);
    expect(hit.cacheStatus).toMatch(/^edge-cache; hit; .*detail=edge/);
    expect(await sha256Hex(hit.bytes)).toBe(expected);
    expect(hit.headers.get("content-length")).toBe(String(size));
    expect(await origin.count(path)).toBe(1);
  });

  it("HEAD is answered from the GET entry, without a body", async () => {
    const path = origin.path();
    await origin.script(path, { body: "the body", headers: { etag: '"v1"' } });
    const head = await h.get(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    expect(head.cacheStatus).toMatch(/fwd=uri-miss; stored/);
    const [seen] = await origin.requests(path);
    expect(seen?.method).toBe("GET");
    const get = await h.get(path);
    expect(get.text).toBe("the body");
    expect(get.cacheStatus).toMatch(/^edge-cache; hit;/);
    const head2 = await h.get(path, { method: "HEAD" });
    expect(head2.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(head2.headers.get("etag")).toBe('"v1"');
    expect(head2.text).toBe("");
    expect(await origin.count(path)).toBe(1);
  });

  it("the rule's browser TTL sets the client-facing Cache-Control on misses and hits", async () => {
    const b = harness({ defaults: { ttl: { edge: 600, browser: 30 } } });
    const path = origin.path();
    await origin.script(path, { headers: { "cache-control": "public, max-age=600", expires: "Thu, 01 Jan 2099 00:00:00 GMT" } });
    expect((await b.get(path)).headers.get("cache-control")).toBe("max-age=30");
    const hit = await b.get(path);
    expect(hit.headers.get("cache-control")).toBe("max-age=30");
    expect(hit.headers.get("expires")).toBeNull();
  });

  it("without a browser TTL the origin's Cache-Control passes on", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { "cache-control": "public, max-age=77" } });
    await h.get(path);
    expect((await h.get(path)).headers.get("cache-control")).toBe("public, max-age=77");
  });

  it("internal headers never reach the client, and there is exactly one Cache-Status entry of ours", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { "x-edge-cache-entry": "forged", "cache-status": "upstream; hit" } });
    for (const got of [await h.get(path), await h.get(path)]) {
      expect(got.headers.get("x-edge-cache-entry")).toBeNull();
      const mine = got.cacheStatus.split(",").filter((s) => s.trim().startsWith("edge-cache"));
      expect(mine).toHaveLength(1);
      expect(got.cacheStatus.startsWith("upstream; hit, edge-cache;")).toBe(true);
    }
  });

  it("the origin unreachable on a miss: 502, no-store, a clear body", async () => {
    const path = origin.path();
    await origin.script(path, { reset: true });
    const got = await h.get(path);
    expect(got.status).toBe(502);
    expect(got.headers.get("cache-control")).toBe("no-store");
    expect(got.text).toMatch(/origin could not be reached/);
    expect(got.cacheStatus).toBe("edge-cache; fwd=uri-miss; fwd-status=502");
  });
});

describe("TTLs and tiers", () => {
  it("KV TTL 0: stored at the edge only", async () => {
    const h = harness({ defaults: { ttl: { edge: 600, kv: 0 } } });
    const path = origin.path();
    await h.get(path);
    const { env } = await import("cloudflare:workers");
    const keys = await env.CACHE_KV.list();
    const { storageKey } = await import("../../src/tiers/two-tier");
    const at = await storageKey(`https://site.test${path}`, "site.test");
    expect(keys.keys.map((k) => k.name)).not.toContain(`e:${at.hash}`);
    expect((await h.get(path)).cacheStatus).toMatch(/detail=edge/);
  });

  it("edge TTL 0 with KV: stored in KV only, every hit from KV", async () => {
    const h = harness({ defaults: { ttl: { edge: 0, kv: 600 }, origin: "override", status: { "200": 600 } } });
    const path = origin.path();
    await h.get(path);
    expect((await h.get(path)).cacheStatus).toBe("edge-cache; hit; ttl=600; detail=kv");
    expect((await h.get(path)).cacheStatus).toMatch(/detail=kv/);
    expect(await origin.count(path)).toBe(1);
  });

  it("an entry whose headers overflow KV metadata is kept in an envelope and still hits from KV", async () => {
    const h = harness({ defaults: { ttl: { edge: 0, kv: 600 }, origin: "override", status: { "200": 600 } } });
    const path = origin.path();
    await origin.script(path, { headers: { "x-long": "v".repeat(2000) }, body: "enveloped" });
    await h.get(path);
    const hit = await h.get(path);
    expect(hit.cacheStatus).toBe("edge-cache; hit; ttl=600; detail=kv");
    expect(hit.text).toBe("enveloped");
    expect(hit.headers.get("x-long")).toHaveLength(2000);
  });

  it("respect: the origin's s-maxage, then max-age, decide the lifetime", async () => {
    const h = harness({ defaults: { origin: "respect" } });
    const a = origin.path();
    await origin.script(a, { headers: { "cache-control": "max-age=100, s-maxage=50" } });
    expect((await h.get(a)).cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=50");
    const b = origin.path();
    await origin.script(b, { headers: { "cache-control": "max-age=100" } });
    await h.get(b);
    h.clock.advance(99);
    expect((await h.get(b)).cacheStatus).toBe("edge-cache; hit; ttl=1; detail=edge");
    h.clock.advance(1);
    expect((await h.get(b)).cacheStatus).toMatch(/^edge-cache; fwd=stale/);
    expect(await origin.count(b)).toBe(2);
  });

  it("an expired entry is never served as a hit", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 } } });
    const path = origin.path();
    await origin.script(path, { body: "v{n}" });
    await h.get(path);
    h.clock.advance(61);
    const got = await h.get(path);
    expect(got.text).toBe("v2");
    expect(got.cacheStatus).toBe("edge-cache; fwd=stale; fwd-status=200; stored; ttl=60");
  });
});
