/**
 * A miss's client that lags behind the store is detached (src/http/lagging-client.ts):
 * past LAG_BOUND_BYTES queued for it, its branch of the tee is cancelled and it reads the
 * rest from the tier that stored the entry. In workerd a branch the test does not read
 * does not pace the tee (ARCHITECTURE.md, "Platform facts"), so here the lag is made by
 * not reading while the store completes, and what is checked is the bytes the client
 * gets and that it switched to the tier (the `client-detached` line). Over real HTTP,
 * where the pacing is real: test/e2e/lagging-client.test.ts.
 */
import { describe, expect, it } from "vitest";
import { LAG_BOUND_BYTES } from "../../src/http/lagging-client";
import { harness } from "../support/harness";
import { origin, patternBytes } from "../support/origin";
import { until } from "../support/until";

const SIZE = 3 * LAG_BOUND_BYTES;
const BODY = patternBytes(SIZE);

/** Reads the rest of `reader` after `first`; the bytes, or the error that cut them. */
async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>, first: Uint8Array): Promise<{ bytes: Uint8Array; error: unknown }> {
  const parts = [first];
  let error: unknown = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
  } catch (err) {
    error = err;
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((at, p) => (bytes.set(p, at), at + p.byteLength), 0);
  return { bytes, error };
}

const same = (got: Uint8Array, want: Uint8Array) => got.length === want.length && got.every((b, i) => b === want[i]);
const detachedLines = (logs: Record<string, unknown>[]) => logs.filter((l) => l.msg === "client-detached");

describe("a client lagging behind the store", () => {
  it("reads one chunk, lags past the bound while the store completes: the rest comes from the tier, byte for byte", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, originTimeout: 30 } });
    const path = origin.path();
    await origin.script(path, { bodyBytes: SIZE });
    const leader = h.start(path);
    const res = await leader.response;
    expect(res.headers.get("cache-status")).toBe("edge-cache; fwd=uri-miss; stored; ttl=600");
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);

    await until(() => detachedLines(h.logs).length === 1, "the lagging client is detached");
    const follower = await h.get(path);
    expect(follower.cacheStatus).toMatch(/^edge-cache; (fwd=uri-miss; collapsed|hit); ttl=600; detail=edge$/);
    expect(same(new Uint8Array(follower.bytes), BODY)).toBe(true);

    const got = await readAll(reader, first.value!);
    expect(got.error).toBe(null);
    expect(same(got.bytes, BODY)).toBe(true);
    const [line] = detachedLines(h.logs);
    // It had the bound queued (and the chunk it read) when it was detached, not the whole body.
    expect(line).toMatchObject({ route: "all" });
    expect(line!.offset as number).toBeGreaterThanOrEqual(LAG_BOUND_BYTES);
    expect(line!.offset as number).toBeLessThan(SIZE);
    await leader.done();
    expect(await origin.count(path)).toBe(1);
  });

  it("a body of unknown length (chunked) into an edge without a size limit: detached, and exact", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 } } });
    const path = origin.path();
    await origin.script(path, { bodyBytes: SIZE, chunked: true });
    const leader = h.start(path);
    const reader = (await leader.response).body!.getReader();
    const first = await reader.read();
    await until(() => detachedLines(h.logs).length === 1, "the lagging client is detached");
    const got = await readAll(reader, first.value!);
    expect(got.error).toBe(null);
    expect(same(got.bytes, BODY)).toBe(true);
    await leader.done();
  });

  it("a body of unknown length the edge may refuse (maxObjectSize.edge): never detached, paced as before, and exact", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, maxObjectSize: { edge: 2 * SIZE } } });
    const path = origin.path();
    await origin.script(path, { bodyBytes: SIZE, chunked: true });
    const leader = h.start(path);
    const reader = (await leader.response).body!.getReader();
    const first = await reader.read();
    const got = await readAll(reader, first.value!);
    expect(got.error).toBe(null);
    expect(same(got.bytes, BODY)).toBe(true);
    await leader.done();
    expect(detachedLines(h.logs)).toEqual([]);
  });

  it("when the store keeps nothing (the origin cut the body short), the detached client's body errors after a true prefix", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 } } });
    const path = origin.path();
    await origin.script(path, { bodyBytes: SIZE, truncateAt: SIZE - 1000 }, { body: "whole" });
    const leader = h.start(path);
    const reader = (await leader.response).body!.getReader();
    const first = await reader.read();
    await until(() => detachedLines(h.logs).length === 1, "the lagging client is detached");
    const got = await readAll(reader, first.value!);
    expect(got.error).not.toBe(null);
    expect(got.bytes.length).toBeLessThan(SIZE);
    expect(same(got.bytes, BODY.subarray(0, got.bytes.length))).toBe(true);
    await leader.done().catch(() => undefined);
    // Nothing was kept: the next request goes to the origin.
    expect((await h.get(path)).text).toBe("whole");
  });
});
