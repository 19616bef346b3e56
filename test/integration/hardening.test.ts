/**
 * Hostile input and failing parts: nothing leaked, nothing lost. Faults come from the
 * real scripted origin and from thin wrappers around the real bindings.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/index";
import { drive, harness, originRules, SITE, TestClock } from "../support/harness";
import { overrideKv } from "../support/locations";
import { origin } from "../support/origin";

describe("rule zero: what reaches the origin is in the key or removed", () => {
  const h = harness({
    defaults: { ttl: { edge: 600 } },
    routes: [
      { name: "keyed", match: { path: "/:t/keyed" }, key: { headers: ["x-forwarded-host"], cookies: ["ab"] } },
      { name: "all", match: { path: "/*" } },
    ],
  });

  it("forwarded-host, original-URL and method-override headers are stripped on the cache path", async () => {
    const path = origin.path();
    await h.get(path, {
      headers: { "x-forwarded-host": "evil.example", "x-original-url": "/admin", "x-http-method-override": "DELETE", forwarded: "host=evil" },
    });
    const [seen] = await origin.requests(path);
    for (const name of ["x-forwarded-host", "x-original-url", "x-http-method-override", "forwarded"]) {
      expect(seen?.headers[name], name).toBeUndefined();
    }
  });

  it("a header the route keys on is forwarded, and separates entries", async () => {
    const t = origin.prefix().slice(1);
    const path = `/${t}/keyed`;
    await origin.script(path, { body: "{n}" });
    expect((await h.get(path, { headers: { "x-forwarded-host": "a.example" } })).text).toBe("1");
    expect((await h.get(path, { headers: { "x-forwarded-host": "b.example" } })).text).toBe("2");
    const seen = await origin.requests(path);
    expect(seen.map((r) => r.headers["x-forwarded-host"])).toEqual(["a.example", "b.example"]);
  });

  it("cookies the key ignores never reach the origin on the cache path; keyed ones do", async () => {
    const t = origin.prefix().slice(1);
    const path = `/${t}/keyed`;
    await h.get(path, { headers: { cookie: "tracking=1; ab=green; theme=dark" } });
    const [seen] = await origin.requests(path);
    expect(seen?.headers.cookie).toBe("ab=green");
    const other = origin.path();
    await h.get(other, { headers: { cookie: "tracking=1" } });
    expect((await origin.requests(other))[0]?.headers.cookie).toBeUndefined();
  });

  it("query parameters the key ignores do not reach the origin", async () => {
    const k = harness({ defaults: { ttl: { edge: 600 }, key: { query: { ignore: ["utm_*", "callback"] } } } });
    const path = origin.path();
    await k.get(`${path}?callback=alert(1)&id=1`);
    expect((await origin.requests(path))[0]?.url).toBe(`${path}?id=1`);
  });

  it("a bypassed request is passed through untouched (nothing is stored, nothing to poison)", async () => {
    const b = harness({ defaults: { ttl: { edge: 600 }, bypass: { headers: ["x-preview"] } } });
    const path = origin.path();
    await b.get(path, { headers: { "x-preview": "1", "x-forwarded-host": "a.example", cookie: "s=1" } });
    const [seen] = await origin.requests(path);
    expect(seen?.headers["x-forwarded-host"]).toBe("a.example");
    expect(seen?.headers.cookie).toBe("s=1");
  });
});

describe("cache deception and path confusion", () => {
  const h = harness({ defaults: { ttl: { edge: 600 }, origin: "override" } });

  it("a private page answered at a static-looking URL is not stored (content type does not fit)", async () => {
    const path = origin.path("profile.css");
    await origin.script(path, { headers: { "content-type": "text/html" }, body: "<h1>alice's account</h1>" });
    expect((await h.get(path)).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=deception");
    await h.get(path);
    expect(await origin.count(path)).toBe(2);
  });

  it("a real stylesheet is stored", async () => {
    const path = origin.path("site.css");
    await origin.script(path, { headers: { "content-type": "text/css; charset=utf-8" }, body: "a{}" });
    await h.get(path);
    expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
  });

  it("a rule TTL never overrides private, even on a static-looking URL", async () => {
    const path = origin.path("logo.png");
    await origin.script(path, { headers: { "content-type": "image/png", "cache-control": "private" } });
    expect((await h.get(path)).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=private");
  });

  const ambiguous = ["..%2Faccount", "a%2fb.css", "x%5Cy.css", "a%00.css", "a%0d%0aSet-Cookie:x.css", "a%3F.css", "a%23.css", "a%3b.css", "a%252F.css"];
  for (const suffix of ambiguous) {
    it(`ambiguous path ${suffix} is passed through, never stored`, async () => {
      const base = origin.prefix();
      const got = await h.get(`${base}/static/${suffix}`);
      expect(got.cacheStatus).toBe("edge-cache; fwd=bypass; detail=path");
    });
  }
});

it("encoded dot segments are resolved as the URL standard says, so the key is the path the origin gets", async () => {
  const h = harness({ defaults: { ttl: { edge: 600 } } });
  const base = origin.prefix();
  await h.get(`${base}/secret`);
  expect((await h.get(`${base}/static/%2e%2e/secret`)).cacheStatus).toMatch(/^edge-cache; hit;/);
  expect(await origin.count(`${base}/secret`)).toBe(1);
});

describe("protocol hygiene", () => {
  const h = harness({ defaults: { ttl: { edge: 600 } } });

  it("hop-by-hop headers, and those Connection names, are removed both ways and before storing", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { connection: "x-secret-hop", "x-secret-hop": "1", "keep-alive": "timeout=5", "x-kept": "yes" } });
    const miss = await h.get(path, { headers: { connection: "x-client-hop", "x-client-hop": "1" } });
    expect(miss.headers.get("x-secret-hop")).toBeNull();
    expect(miss.headers.get("keep-alive")).toBeNull();
    const hit = await h.get(path);
    expect(hit.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(hit.headers.get("x-secret-hop")).toBeNull();
    expect(hit.headers.get("x-kept")).toBe("yes");
    expect((await origin.requests(path))[0]?.headers["x-client-hop"]).toBeUndefined();
  });

  it("an oversized URL gets a clear 414, an oversized header block a 431, and neither reaches the origin", async () => {
    const path = origin.path();
    const long = await h.get(`${path}?q=${"a".repeat(9000)}`);
    expect(long.status).toBe(414);
    expect(long.headers.get("cache-control")).toBe("no-store");
    const big = await h.get(path, { headers: { "x-big": "b".repeat(33_000) } });
    expect(big.status).toBe(431);
    expect(await origin.count(path)).toBe(0);
  });

  it("a garbage origin answer is an origin error: 502, nothing stored", async () => {
    const path = origin.path();
    await origin.script(path, { reset: true });
    expect((await h.get(path)).status).toBe(502);
  });
});

/** A worker whose bindings are wrapped with faults. */
function faulty(wrap: { kv?: (kv: KVNamespace) => KVNamespace; cache?: (c: Cache) => Cache }, settings = { ttl: { edge: 600, kv: 600 } }) {
  const clock = new TestClock();
  const worker = createWorker({
    clock,
    rules: originRules({ defaults: settings }),
    log: () => {},
    wrapKv: wrap.kv,
    wrapCache: wrap.cache,
  });
  const { request, start } = drive(worker, clock);
  return { clock, start, get: request };
}

function kvWith(overrides: Partial<Record<"get" | "put" | "delete", (...args: unknown[]) => unknown>>) {
  return (kv: KVNamespace) => overrideKv(kv, () => overrides);
}

describe("failing storage never fails a request", () => {
  it("KV get and put throwing: every request still answered, from the edge when it can", async () => {
    const w = faulty({
      kv: kvWith({ get: () => Promise.reject(new Error("kv down")), put: () => Promise.reject(new Error("kv down")) }),
    });
    const path = origin.path();
    expect((await w.get(path)).status).toBe(200);
    const again = await w.get(path);
    expect(again.status).toBe(200);
    expect(again.cacheStatus).toMatch(/detail=edge/);
  });

  it("a KV read that never answers is a miss after the bounded wait", async () => {
    const w = faulty({ kv: kvWith({ get: () => new Promise(() => {}) }) }, { ttl: { edge: 0, kv: 600 } } as never);
    const path = origin.path();
    const pending = w.start(path);
    for (let i = 0; i < 100 && w.clock.waiting === 0; i++) await origin.held("/__nothing__");
    w.clock.advance(2);
    const res = await pending.response;
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-status")).toMatch(/fwd=uri-miss/);
    await res.text();
    await pending.done();
  });

  it("Cache API put rejecting: served from the origin, stored in KV", async () => {
    const w = faulty({
      cache: (c) => ({ match: c.match.bind(c), delete: c.delete.bind(c), put: () => Promise.reject(new Error("cache full")) }) as Cache,
    });
    const path = origin.path();
    expect((await w.get(path)).status).toBe(200);
    expect((await w.get(path)).cacheStatus).toMatch(/detail=kv/);
    expect(await origin.count(path)).toBe(1);
  });

  it("Cache API put silently storing nothing: the next request is a plain miss", async () => {
    const w = faulty({ cache: (c) => ({ match: c.match.bind(c), delete: c.delete.bind(c), put: async () => {} }) as Cache }, { ttl: { edge: 600, kv: 0 } } as never);
    const path = origin.path();
    await w.get(path);
    const second = await w.get(path);
    expect(second.status).toBe(200);
    expect(second.cacheStatus).toMatch(/fwd=uri-miss/);
  });

  it("a client that aborts mid-download does not stop the cache copy", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 } } });
    const path = origin.path("big");
    await origin.script(path, { bodyBytes: 512 * 1024 });
    const r = h.start(path);
    const res = await r.response;
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await r.done();
    const again = await h.get(path);
    expect(again.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(again.bytes.length).toBe(512 * 1024);
  });

  it("an exception in the pipeline after the request was sent: a clear 502, never a second send (see attack-fallback.test.ts)", async () => {
    const worker = createWorker({
      rules: originRules(),
      log: () => {
        throw new Error("a bug");
      },
    });
    const path = origin.path();
    await origin.script(path, { body: "still here" });
    const ctx = createExecutionContext();
    const res = await worker.fetch!(new Request(`${SITE}${path}`) as never, env, ctx);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("it was not sent again");
    expect(res.headers.get("cache-status")).toBe("edge-cache; fwd=bypass; detail=error");
    await waitOnExecutionContext(ctx);
    expect(await origin.count(path)).toBe(1);
  });
});
