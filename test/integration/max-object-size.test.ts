/**
 * `maxObjectSize.edge`: answers larger than the route allows are served whole but not
 * kept at the edge, whether the origin declares the size or streams it without one;
 * nothing is ever stored cut short (issue 10, item 8).
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/policy/digest";
import { harness } from "../support/harness";
import { origin, patternBytes } from "../support/origin";

const MAX = 64 * 1024;


describe("maxObjectSize.edge", () => {
  const h = harness({
    defaults: { ttl: { edge: 600 } },
    routes: [
      { name: "both", match: { path: "/:t/both/*" }, ttl: { edge: 600, kv: 600 }, maxObjectSize: { edge: MAX } },
      { name: "capped", match: { path: "/*" }, maxObjectSize: { edge: MAX } },
    ],
  });

  it("a Content-Length over the limit: served whole, not stored (detail=object-too-large), the origin asked each time", async () => {
    const path = origin.path("big.bin");
    const size = MAX + 1;
    await origin.script(path, { bodyBytes: size }, { bodyBytes: size });
    const expected = await sha256Hex(patternBytes(size));
    for (const _ of [1, 2]) {
      const r = await h.get(path);
      expect(r.status).toBe(200);
      expect(r.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=object-too-large");
      expect(r.bytes.length).toBe(size);
      expect(await sha256Hex(r.bytes)).toBe(expected);
    }
    expect(await origin.count(path)).toBe(2);
  });

  it("at the limit exactly: stored, then a hit", async () => {
    const path = origin.path("fits.bin");
    await origin.script(path, { bodyBytes: MAX });
    expect((await h.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
    const hit = await h.get(path);
    expect(hit.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(hit.bytes.length).toBe(MAX);
    expect(await origin.count(path)).toBe(1);
  });

  it("a body without Content-Length that grows past the limit: served whole, the edge write abandoned", async () => {
    const path = origin.path("stream.bin");
    const size = 3 * MAX;
    await origin.script(path, { bodyBytes: size, chunked: true }, { bodyBytes: size, chunked: true });
    const first = await h.get(path);
    expect(first.headers.get("content-length")).toBeNull();
    expect(first.bytes.length).toBe(size);
    expect(await sha256Hex(first.bytes)).toBe(await sha256Hex(patternBytes(size)));
    // The headers went out before the size was known; what matters is that nothing was kept.
    const second = await h.get(path);
    expect(second.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss/);
    expect(second.bytes.length).toBe(size);
    expect(await origin.count(path)).toBe(2);
  });

  it("a small body without Content-Length is still stored", async () => {
    const path = origin.path("small.bin");
    await origin.script(path, { bodyBytes: 1000, chunked: true });
    await h.get(path);
    const hit = await h.get(path);
    expect(hit.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(hit.bytes.length).toBe(1000);
    expect(await origin.count(path)).toBe(1);
  });

  it("too large for the edge but not for KV: kept in KV only, and never copied into the edge", async () => {
    const t = origin.prefix().slice(1);
    const path = `/${t}/both/big.bin`;
    const size = MAX + 1;
    await origin.script(path, { bodyBytes: size });
    expect((await h.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
    for (const _ of [1, 2]) {
      const hit = await h.get(path);
      expect(hit.cacheStatus).toMatch(/^edge-cache; hit; .*detail=kv/);
      expect(hit.bytes.length).toBe(size);
    }
    expect(await origin.count(path)).toBe(1);
  });
});
