/**
 * Partial content (RFC 9111 §3.3, §3.4; issue 25 item 5): a cold range is asked of the
 * origin as a range and its 206 kept as a piece; ranges inside the pieces are hits;
 * pieces of one strong validator combine, never those of two; a complete set becomes
 * the whole entry; at most MAX_PIECES pieces per URL. Against an origin that honours
 * Range (`ranges: true`), so the bytes it sends are the bytes it was asked for.
 */
import { describe, expect, it } from "vitest";
import { MAX_PIECES } from "../../src/policy/partial";
import { adminHarness } from "../support/admin-harness";
import { harness } from "../support/harness";
import { origin, patternBytes } from "../support/origin";

/** Too large to keep whole at the edge (the route's only tier). */
const MAX = 64 * 1024;
const BIG = 4 * MAX;
const HIT_PARTIAL = /^edge-cache; hit; ttl=\d+; detail=edge\/partial$/;
const STORED_PIECE = "edge-cache; fwd=uri-miss; stored; ttl=600; detail=partial";

/** Bytes the origin sent for `path` (a body of `size`): each request's range, or the whole body. */
async function originBytes(path: string, size: number): Promise<number> {
  let sent = 0;
  for (const r of await origin.requests(path)) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(String(r.headers.range ?? ""));
    sent += m ? Math.min(Number(m[2]), size - 1) - Number(m[1]) + 1 : size;
  }
  return sent;
}

describe("partial content (RFC 9111 §3.3, §3.4)", () => {
  const h = harness({ routes: [{ name: "media", match: { path: "/*" }, ttl: { edge: 600 }, maxObjectSize: { edge: MAX } }] });
  const range = (path: string, first: number, last: number) => h.get(path, { headers: { range: `bytes=${first}-${last}` } });
  const file = patternBytes(BIG);

  it("a cold range of a file too large to keep whole is asked as a range, kept, and a smaller range inside it is a hit", async () => {
    const path = origin.path("video.bin");
    await origin.script(path, { bodyBytes: BIG, ranges: true, headers: { etag: '"v1"', "accept-ranges": "bytes" } });
    const first = await range(path, 0, 999);
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe(`bytes 0-999/${BIG}`);
    expect(first.bytes).toEqual(file.slice(0, 1000));
    expect(first.cacheStatus).toBe(STORED_PIECE);
    const inside = await range(path, 100, 199);
    expect(inside.status).toBe(206);
    expect(inside.cacheStatus).toMatch(HIT_PARTIAL);
    expect(inside.headers.get("content-range")).toBe(`bytes 100-199/${BIG}`);
    expect(inside.headers.get("etag")).toBe('"v1"');
    expect(inside.bytes).toEqual(file.slice(100, 200));
    expect(await origin.count(path)).toBe(1);
    expect(await originBytes(path, BIG)).toBe(1000);
  });

  it("pieces with the same ETag combine: a range spanning two or three of them is answered from the cache", async () => {
    const path = origin.path("combine.bin");
    await origin.script(path, { bodyBytes: BIG, ranges: true, headers: { etag: '"v1"' } });
    await range(path, 0, 999);
    await range(path, 1000, 1999);
    const span = await range(path, 500, 1499);
    expect(span.cacheStatus).toMatch(HIT_PARTIAL);
    expect(span.bytes).toEqual(file.slice(500, 1500));
    expect(await origin.count(path)).toBe(2);
    // Overlapping the second piece and past it: asked of the origin, then three pieces answer.
    expect((await range(path, 1500, 2499)).cacheStatus).toBe(STORED_PIECE);
    const three = await range(path, 10, 2400);
    expect(three.cacheStatus).toMatch(HIT_PARTIAL);
    expect(three.bytes).toEqual(file.slice(10, 2401));
    expect(await origin.count(path)).toBe(3);
    expect(await originBytes(path, BIG)).toBe(3000);
  });

  it("a piece with another ETag starts a new set: the old pieces are never served with it", async () => {
    const path = origin.path("changed.txt");
    const a = "a".repeat(BIG);
    const b = "b".repeat(BIG);
    await origin.script(path, { body: a, ranges: true, headers: { etag: '"a"' } }, { body: b, ranges: true, headers: { etag: '"b"' } });
    expect((await range(path, 0, 999)).text).toBe("a".repeat(1000));
    expect((await range(path, 1000, 1999)).text).toBe("b".repeat(1000));
    // Held by an "a" piece and a "b" piece together: never combined, asked of the origin.
    const span = await range(path, 500, 1499);
    expect(span.cacheStatus).toBe(STORED_PIECE);
    expect(span.text).toBe("b".repeat(1000));
    expect(await origin.count(path)).toBe(3);
    // The "a" piece is gone from the set: its range is asked again, and answered "b".
    const again = await range(path, 0, 99);
    expect(again.cacheStatus).toBe(STORED_PIECE);
    expect(again.text).toBe("b".repeat(100));
    expect(await origin.count(path)).toBe(4);
    const hit = await range(path, 600, 1999);
    expect(hit.cacheStatus).toMatch(HIT_PARTIAL);
    expect(hit.headers.get("etag")).toBe('"b"');
    expect(hit.text).toBe("b".repeat(1400));
  });

  it("a complete set becomes the whole entry: a plain GET is then a hit", async () => {
    const path = origin.path("small.bin");
    const size = 3000;
    await origin.script(path, { bodyBytes: size, ranges: true, headers: { etag: '"v1"' } });
    expect((await range(path, 0, 1499)).cacheStatus).toBe(STORED_PIECE);
    expect((await range(path, 1500, size - 1)).cacheStatus).toBe(STORED_PIECE);
    const whole = await h.get(path);
    expect(whole.status).toBe(200);
    expect(whole.cacheStatus).toMatch(/^edge-cache; hit; ttl=\d+; detail=edge$/);
    expect(whole.headers.get("content-length")).toBe(String(size));
    expect(whole.headers.get("content-range")).toBeNull();
    expect(whole.bytes).toEqual(patternBytes(size));
    expect(await origin.count(path)).toBe(2);
    expect(await originBytes(path, size)).toBe(size);
  });

  it(`the bound: at ${MAX_PIECES} pieces a new one is not kept (passed through), the first ones stay`, async () => {
    const path = origin.path("seeks.bin");
    await origin.script(path, { bodyBytes: BIG, ranges: true, headers: { etag: '"v1"' } });
    for (let i = 0; i < MAX_PIECES; i++) expect((await range(path, i * 1000, i * 1000 + 99)).cacheStatus).toBe(STORED_PIECE);
    const over = MAX_PIECES * 1000;
    const extra = await range(path, over, over + 99);
    expect(extra.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=partial-cap");
    expect(extra.bytes).toEqual(file.slice(over, over + 100));
    expect((await range(path, over, over + 99)).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=partial-cap");
    expect((await range(path, 0, 99)).cacheStatus).toMatch(HIT_PARTIAL);
    expect((await range(path, (MAX_PIECES - 1) * 1000, (MAX_PIECES - 1) * 1000 + 50)).cacheStatus).toMatch(HIT_PARTIAL);
    expect(await origin.count(path)).toBe(MAX_PIECES + 2);
  });

  it("a full set of a file that fits whole gives way to the whole entry, fetched once", async () => {
    const path = origin.path("steps.bin");
    const size = 20_000;
    await origin.script(path, { bodyBytes: size, ranges: true, headers: { etag: '"v1"' } });
    for (let i = 0; i < MAX_PIECES; i++) await range(path, i * 1000, i * 1000 + 9);
    const next = await range(path, 18_000, 18_999);
    expect(next.status).toBe(206);
    expect(next.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
    expect(next.bytes).toEqual(patternBytes(size).slice(18_000, 19_000));
    const [last] = (await origin.requests(path)).slice(-1);
    expect(last?.headers.range).toBeUndefined();
    expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; hit; ttl=\d+; detail=edge$/);
    expect((await range(path, 5, 25_000)).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(await origin.count(path)).toBe(MAX_PIECES + 1);
  });

  it("a 206 without a strong validator is passed through, not kept", async () => {
    const path = origin.path("weak.bin");
    await origin.script(path, { bodyBytes: BIG, ranges: true, headers: { etag: 'W/"v1"' } });
    const first = await range(path, 0, 99);
    expect(first.status).toBe(206);
    expect(first.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=partial-no-validator");
    expect((await range(path, 0, 99)).cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=partial-no-validator");
    expect(await origin.count(path)).toBe(2);
  });

  it("in KV: pieces and a set too large for KV's metadata (the envelope) are read back", async () => {
    const kvOnly = harness({ routes: [{ name: "kv", match: { path: "/*" }, ttl: { edge: 0, kv: 3600 } }] });
    const path = origin.path("kv.bin");
    await origin.script(path, { bodyBytes: BIG, ranges: true, headers: { etag: '"v1"', "cache-control": "max-age=600" } });
    // KV takes one write a second per key: the set is rewritten with each piece.
    for (let i = 0; i < MAX_PIECES; i++) {
      kvOnly.clock.advance(1);
      await kvOnly.get(path, { headers: { range: `bytes=${i * 1000}-${i * 1000 + 999}` } });
    }
    const span = await kvOnly.get(path, { headers: { range: `bytes=500-${MAX_PIECES * 1000 - 1}` } });
    expect(span.cacheStatus).toMatch(/^edge-cache; hit; ttl=\d+; detail=kv\/partial$/);
    expect(span.bytes).toEqual(file.slice(500, MAX_PIECES * 1000));
    expect(await origin.count(path)).toBe(MAX_PIECES);
  });

  it("purges cover pieces as they cover entries: by URL and by tag", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const a = adminHarness({ routes: [{ name: `m-${id}`, match: { path: `/m${id}/*` }, ttl: { edge: 600 }, tags: [`t-${id}`] }] });
    for (const purge of [{ urls: [`/m${id}/a.bin`] }, { tags: [`t-${id}`] }]) {
      const path = purge.urls?.[0] ?? `/m${id}/b.bin`;
      await origin.script(path, { bodyBytes: BIG, ranges: true, headers: { etag: '"v1"' } });
      await a.get(path, { headers: { range: "bytes=0-999" } });
      expect((await a.get(path, { headers: { range: "bytes=0-99" } })).cacheStatus).toMatch(HIT_PARTIAL);
      a.clock.advance(1);
      expect((await a.purge(purge)).status).toBe(200);
      a.clock.advance(1);
      expect((await a.get(path, { headers: { range: "bytes=0-99" } })).cacheStatus).toBe(STORED_PIECE);
      expect(await origin.count(path)).toBe(2);
    }
  });

  it("a stale piece is not served: the range is asked again and the new piece replaces it", async () => {
    const path = origin.path("stale.bin");
    await origin.script(path, { bodyBytes: BIG, ranges: true, headers: { etag: '"v1"' } });
    await range(path, 0, 999);
    h.clock.advance(601);
    expect((await range(path, 0, 99)).cacheStatus).toBe(STORED_PIECE);
    expect((await range(path, 0, 99)).cacheStatus).toMatch(HIT_PARTIAL);
    expect(await origin.count(path)).toBe(2);
  });
});
