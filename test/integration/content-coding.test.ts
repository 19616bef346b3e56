/**
 * Content codings through the cache (docs/encodings.md): a pre-compressed answer
 * (nginx gzip_static, an object stored gzip-encoded in a bucket) keeps its bytes and
 * its Content-Length on a miss, from either tier and after a 304 refresh; a client that
 * does not accept the coding gets the decoded content. The harness calls the Worker's
 * fetch directly, so a body read here is exactly the bytes the Worker hands the runtime.
 */
import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/index";
import { drive, harness, originRules, TestClock, type Got } from "../support/harness";
import { origin } from "../support/origin";

const TEXT = "pre-compressed ".repeat(400);
const GZIP = { "accept-encoding": "gzip, deflate, br" };

async function gunzip(bytes: Uint8Array, format: "gzip" | "deflate" = "gzip"): Promise<string> {
  const stream = new Response(bytes).body!.pipeThrough(new DecompressionStream(format));
  return new Response(stream).text();
}

/** The encoded bytes exactly as the origin sends them, with a length that matches. */
async function expectEncoded(got: Got, format: "gzip" | "deflate" = "gzip"): Promise<void> {
  expect(got.status).toBe(200);
  expect(got.headers.get("content-encoding")).toBe(format);
  expect(got.headers.get("content-length")).toBe(String(got.bytes.length));
  expect(await gunzip(got.bytes, format)).toBe(TEXT);
}

describe("a pre-compressed answer (Content-Encoding with the compressed Content-Length)", () => {
  it("is stored and served as the origin's bytes on a miss and on a hit, asked of the origin once", async () => {
    const h = harness();
    const p = origin.path();
    await origin.script(p, { body: TEXT, encoding: "gzip", headers: { "cache-control": "max-age=60", etag: '"v1"' } });
    const miss = await h.get(p, { headers: GZIP });
    await expectEncoded(miss);
    expect(miss.cacheStatus).toMatch(/fwd=uri-miss; stored/);
    const hit = await h.get(p, { headers: GZIP });
    await expectEncoded(hit);
    expect(hit.cacheStatus).toMatch(/hit/);
    expect(hit.headers.get("etag")).toBe('"v1"');
    expect(hit.headers.get("vary")).toBe("Accept-Encoding");
    expect(await origin.count(p)).toBe(1);
  });

  it("is served from KV in another location with its bytes and length", async () => {
    const clock = new TestClock();
    const rules = originRules({ defaults: { ttl: { edge: 60, kv: 3600 } } });
    const run = crypto.randomUUID().slice(0, 8);
    const at = (i: number) => drive(createWorker({ clock, rules, log: () => {}, cacheName: `coding-${i}-${run}` }), clock);
    const p = origin.path();
    await origin.script(p, { body: TEXT, encoding: "gzip", headers: { "cache-control": "max-age=60" } });
    await expectEncoded(await at(0).request(p, { headers: GZIP }));
    const fromKv = await at(1).request(p, { headers: GZIP });
    await expectEncoded(fromKv);
    expect(fromKv.cacheStatus).toMatch(/hit; ttl=\d+; detail=kv/);
    expect(await origin.count(p)).toBe(1);
  });

  it("keeps its bytes after a 304 refresh", async () => {
    const h = harness();
    const p = origin.path();
    await origin.script(
      p,
      { body: TEXT, encoding: "gzip", headers: { "cache-control": "max-age=10", etag: '"v1"' } },
      { status: 304, headers: { "cache-control": "max-age=10", etag: '"v1"' } },
    );
    await h.get(p, { headers: GZIP });
    h.clock.advance(11);
    const refreshed = await h.get(p, { headers: GZIP });
    await expectEncoded(refreshed);
    expect(refreshed.cacheStatus).toMatch(/fwd=stale; fwd-status=304/);
    const after = await h.get(p, { headers: GZIP });
    await expectEncoded(after);
    expect(await origin.count(p)).toBe(2);
  });

  it("is refreshed by the strong-ETag 304 of an origin that weakened the ETag of what it compressed (nginx gzip on)", async () => {
    const h = harness();
    const p = origin.path();
    await origin.script(
      p,
      { body: TEXT, encoding: "gzip", chunked: true, headers: { "cache-control": "max-age=10", etag: 'W/"v1"' } },
      { status: 304, headers: { "cache-control": "max-age=10", etag: '"v1"' } },
    );
    await h.get(p, { headers: GZIP });
    h.clock.advance(11);
    const refreshed = await h.get(p, { headers: GZIP });
    expect(refreshed.cacheStatus).toMatch(/fwd=stale; fwd-status=304; stored/);
    expect(refreshed.headers.get("etag")).toBe('W/"v1"');
    expect(await gunzip(refreshed.bytes)).toBe(TEXT);
    const requests = await origin.requests(p);
    expect(requests.map((r) => r.headers["if-none-match"])).toEqual([undefined, 'W/"v1"']);
  });

  it("works sent chunked (compressed on the fly) and deflate-encoded", async () => {
    const h = harness();
    const chunked = origin.path("chunked");
    const deflated = origin.path("deflate");
    await origin.script(chunked, { body: TEXT, encoding: "gzip", chunked: true, headers: { "cache-control": "max-age=60" } });
    await origin.script(deflated, { body: TEXT, encoding: "deflate", headers: { "cache-control": "max-age=60" } });
    for (const round of [1, 2]) {
      const c = await h.get(chunked, { headers: GZIP });
      expect(c.headers.get("content-encoding")).toBe("gzip");
      expect(await gunzip(c.bytes)).toBe(TEXT);
      if (round === 2) expect(c.cacheStatus).toMatch(/hit/);
      await expectEncoded(await h.get(deflated, { headers: GZIP }), "deflate");
    }
    expect(await origin.count(chunked)).toBe(1);
    expect(await origin.count(deflated)).toBe(1);
  });

  it("is decoded for a client that does not accept it: no Accept-Encoding, identity, gzip;q=0", async () => {
    const h = harness();
    const p = origin.path();
    await origin.script(p, { body: TEXT, encoding: "gzip", headers: { "cache-control": "max-age=60", etag: '"v1"' } });
    await h.get(p, { headers: GZIP });
    for (const headers of [{}, { "accept-encoding": "identity" }, { "accept-encoding": "gzip;q=0, identity" }, { "accept-encoding": "br" }] as Record<string, string>[]) {
      const got = await h.get(p, { headers });
      expect(got.status).toBe(200);
      expect(got.text).toBe(TEXT);
      expect(got.headers.get("content-encoding")).toBeNull();
      expect(got.headers.get("content-length")).toBeNull();
      // Other bytes than the stored ones: a strong validator would lie (RFC 9110 §8.8.1).
      expect(got.headers.get("etag")).toBe('W/"v1"');
      expect(got.headers.get("vary")).toBe("Accept-Encoding");
      expect(got.cacheStatus).toMatch(/hit/);
    }
    expect(await origin.count(p)).toBe(1);
  });

  it("answers a range of the stored bytes to a client that takes the coding, the whole decoded content to one that does not", async () => {
    const h = harness();
    const p = origin.path();
    await origin.script(p, { body: TEXT, encoding: "gzip", headers: { "cache-control": "max-age=60" } });
    const whole = await h.get(p, { headers: GZIP });
    const part = await h.get(p, { headers: { ...GZIP, range: "bytes=0-9" } });
    expect(part.status).toBe(206);
    expect([...part.bytes]).toEqual([...whole.bytes.subarray(0, 10)]);
    expect(part.headers.get("content-range")).toBe(`bytes 0-9/${whole.bytes.length}`);
    const plain = await h.get(p, { headers: { range: "bytes=0-9" } });
    expect(plain.status).toBe(200);
    expect(plain.text).toBe(TEXT);
  });

  it("answers a conditional request with a 304 that carries no Content-Encoding (RFC 9110 §15.4.5)", async () => {
    const h = harness();
    const p = origin.path();
    await origin.script(p, { body: TEXT, encoding: "gzip", headers: { "cache-control": "max-age=60", etag: '"v1"' } });
    await h.get(p, { headers: GZIP });
    const nm = await h.get(p, { headers: { ...GZIP, "if-none-match": '"v1"' } });
    expect(nm.status).toBe(304);
    expect(nm.headers.get("content-encoding")).toBeNull();
    expect(nm.headers.get("content-length")).toBeNull();
    expect(nm.headers.get("etag")).toBe('"v1"');
    // The decoded copy's weak validator matches too (weak comparison, §13.1.2).
    const plain = await h.get(p, { headers: { "if-none-match": 'W/"v1"' } });
    expect(plain.status).toBe(304);
    expect(plain.headers.get("etag")).toBe('W/"v1"');
  });

  it("passes an uncached encoded answer with its bytes, or decoded for a client that does not take it", async () => {
    const h = harness();
    const p = origin.path();
    await origin.script(p, { body: TEXT, encoding: "gzip", headers: { "cache-control": "no-store" } });
    const encoded = await h.get(p, { headers: GZIP });
    await expectEncoded(encoded);
    expect(encoded.cacheStatus).toMatch(/detail=no-store/);
    const plain = await h.get(p);
    expect(plain.text).toBe(TEXT);
    expect(plain.headers.get("content-encoding")).toBeNull();
  });
});

describe("an identity answer", () => {
  it("keeps its stored Content-Length for every client, and gets no coding from the Worker (RFC 9111 §3.1)", async () => {
    const h = harness();
    const p = origin.path();
    await origin.script(p, { body: "ten bytes!", headers: { "cache-control": "max-age=60" } });
    await h.get(p, { headers: GZIP });
    for (const headers of [GZIP, {}, { "accept-encoding": "identity" }]) {
      const got = await h.get(p, { headers });
      expect(got.text).toBe("ten bytes!");
      expect(got.headers.get("content-length")).toBe("10");
      expect(got.headers.get("content-encoding")).toBeNull();
      expect(got.headers.get("vary")).toBeNull();
    }
  });
});
