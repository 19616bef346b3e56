import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeTier } from "../../src/tiers/edge";
import { storageKey } from "../../src/tiers/two-tier";
import { harness, SITE } from "../support/harness";
import { origin } from "../support/origin";

describe("two-tier proxy: miss, edge hit, KV hit", () => {
  it("a miss is fetched once and stored; the next request is an edge hit", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 } } });
    const path = origin.path("page");
    await origin.script(path, { body: "hello", headers: { "content-type": "text/html" } });

    const first = await h.get(path);
    expect(first.status).toBe(200);
    expect(first.text).toBe("hello");
    expect(first.cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=600");

    h.clock.advance(10);
    const second = await h.get(path);
    expect(second.text).toBe("hello");
    expect(second.cacheStatus).toBe("edge-cache; hit; ttl=590; detail=edge");
    expect(second.headers.get("age")).toBe("10");
    expect(second.headers.get("content-type")).toBe("text/html");
    expect(await origin.count(path)).toBe(1);
  });

  it("with the edge entry gone, KV answers and refills the edge", async () => {
    const h = harness({ defaults: { ttl: { edge: 600, kv: 3600 } } });
    const path = origin.path("kv");
    await origin.script(path, { body: "from-origin" });
    await h.get(path);

    const at = await storageKey(`${SITE}${path}`, "site.test");
    await edgeTier(caches.default).delete(at);
    expect(await caches.default.match(`${SITE}/.edge-cache/entry/${at.hash}`)).toBeUndefined();

    const fromKv = await h.get(path);
    expect(fromKv.text).toBe("from-origin");
    expect(fromKv.cacheStatus).toBe("edge-cache; hit; ttl=600; detail=kv");

    const refilled = await h.get(path);
    expect(refilled.cacheStatus).toBe("edge-cache; hit; ttl=600; detail=edge");
    expect(refilled.text).toBe("from-origin");
    expect(await origin.count(path)).toBe(1);
    void env;
  });
});
