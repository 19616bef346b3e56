/**
 * Issue 21, item 7: what a collapse leader's client can make the requests collapsed
 * onto it wait for. Followers read the stored entry from the tier, each at its own
 * pace, never a branch of the leader's body; the store runs at the origin's pace, so
 * a leader's client that reads slowly, stops, or leaves delays nobody past the time
 * the origin takes to send the body. The clock never moves here: nothing may wait for
 * the origin timeout.
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin, patternBytes } from "../support/origin";
import { until } from "../support/until";

const SIZE = 4 * 1024 * 1024;
const BODY = patternBytes(SIZE);

/** The whole scripted body, byte for byte (a deep equality of 4 MiB takes vitest seconds). */
const whole = (bytes: ArrayBuffer | Uint8Array) => {
  const got = new Uint8Array(bytes);
  return got.length === SIZE && got.every((b, i) => b === BODY[i]);
};

describe("a collapse leader's client never holds its followers back", () => {
  it("a leader that reads one chunk and stops: a second request gets the whole body from the tier, the origin asked once", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, originTimeout: 30 } });
    const path = origin.path();
    await origin.script(path, { hold: true, bodyBytes: SIZE });
    const leader = h.start(path);
    await until(async () => (await origin.held(path)) === 1, "the leader reached the origin");
    const follower = h.start(path);
    await until(() => h.clock.waiting >= 2, "the second request waits for the leader's flight");
    await origin.release(path);
    const reader = (await leader.response).body!.getReader();
    expect((await reader.read()).done).toBe(false);

    const res = await follower.response;
    expect(whole(await res.arrayBuffer())).toBe(true);
    expect(res.headers.get("cache-status")).toBe("edge-cache; fwd=uri-miss; collapsed; ttl=600; detail=edge");
    expect(await origin.count(path)).toBe(1);
    await follower.done();
    await reader.cancel();
    await leader.done();
  });

  it("a leader whose client leaves before the body comes: the follower gets the whole body, the entry is stored", async () => {
    const h = harness({ defaults: { ttl: { edge: 600 }, originTimeout: 30 } });
    const path = origin.path();
    await origin.script(path, { holdBody: true, bodyBytes: SIZE });
    const leader = h.start(path);
    const leaderRes = await leader.response;
    const follower = h.start(path);
    await until(() => h.clock.waiting >= 1, "the second request waits for the leader's flight");
    await leaderRes.body!.cancel();
    await origin.release(path);

    const res = await follower.response;
    expect(whole(await res.arrayBuffer())).toBe(true);
    expect(res.headers.get("cache-status")).toBe("edge-cache; fwd=uri-miss; collapsed; ttl=600; detail=edge");
    await Promise.all([leader.done(), follower.done()]);
    const later = await h.get(path);
    expect(later.cacheStatus).toBe("edge-cache; hit; ttl=600; detail=edge");
    expect(whole(later.bytes)).toBe(true);
    expect(await origin.count(path)).toBe(1);
  });
});
