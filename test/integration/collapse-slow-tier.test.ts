/**
 * Issue 21, item 7, the tiers' side: requests collapsed onto a miss are released as soon
 * as one tier holds the whole entry, not when every tier's write has ended, so a slow
 * KV put holds no one back (the KV copy still completes in the background).
 */
import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/index";
import { drive, originRules, TestClock } from "../support/harness";
import { overrideKv } from "../support/locations";
import { origin } from "../support/origin";
import { until } from "../support/until";

describe("collapsed requests and a slow second tier", () => {
  it("a follower reads the edge copy while the KV put is still running; the KV copy lands afterwards", async () => {
    const clock = new TestClock();
    let releaseKv!: () => void;
    const kvHeld = new Promise<void>((r) => (releaseKv = r));
    const entryPuts: string[] = [];
    const worker = createWorker({
      clock,
      rules: originRules({ defaults: { ttl: { edge: 600, kv: 3600 }, originTimeout: 30 } }),
      log: () => {},
      cacheName: `slow-tier-${crypto.randomUUID().slice(0, 8)}`,
      wrapKv: (kv) =>
        overrideKv(kv, (target) => ({
          put: async (key: string, ...rest: unknown[]) => {
            if (key.startsWith("e:")) {
              entryPuts.push(key);
              await kvHeld;
            }
            return (target.put as (...a: unknown[]) => Promise<void>)(key, ...rest);
          },
        })),
    });
    const h = drive(worker, clock);
    const path = origin.path();
    await origin.script(path, { hold: true, body: "the body" });
    const leader = h.start(path);
    await until(async () => (await origin.held(path)) === 1, "the leader reached the origin");
    const follower = h.start(path);
    await until(() => clock.waiting >= 2, "the second request waits for the leader's flight");
    await origin.release(path);
    expect(await (await leader.response).text()).toBe("the body");
    await until(() => entryPuts.length === 1, "the KV put began");

    // Still held: the follower must not be waiting for it.
    const res = await follower.response;
    expect(await res.text()).toBe("the body");
    expect(res.headers.get("cache-status")).toBe("edge-cache; fwd=uri-miss; collapsed; ttl=600; detail=edge");
    expect(await origin.count(path)).toBe(1);

    releaseKv();
    await Promise.all([leader.done(), follower.done()]);
    expect(entryPuts).toHaveLength(1);
  });
});
