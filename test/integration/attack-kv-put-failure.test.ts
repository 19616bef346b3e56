/**
 * Issue 10, item 9: a failed KV write must not delete a good entry. KV takes one
 * write a second per key: the second of two locations writing the same key gets a
 * 429. What is in KV then is the first writer's complete entry (or its Vary index,
 * with all its variants behind it): the failed writer may delete only what it
 * wrote itself, never that.
 */
import { describe, expect, it } from "vitest";
import { locations, overrideKv } from "../support/locations";
import { origin } from "../support/origin";
import { until } from "../support/until";

/** KV as a second writer sees it: a put to a cache key another writer holds fails as KV's per-key limit does. */
function secondWriterGets429(kv: KVNamespace, location: number): KVNamespace {
  if (location !== 1) return kv;
  return overrideKv(kv, (target) => ({
    put: async (key: string, value: never, options?: KVNamespacePutOptions) => {
      if (key.startsWith("e:") && (await target.get(key, "stream").then(async (s) => (await s?.cancel(), s !== null)))) {
        await (value as ReadableStream | null)?.cancel?.().catch(() => {});
        throw new Error("KV PUT failed: 429 Too Many Requests");
      }
      return target.put(key, value, options);
    },
  }));
}

const SETTINGS = { defaults: { ttl: { edge: 600, kv: 600 } }, wrapKv: secondWriterGets429 };

describe("a KV put that fails leaves the other writer's entry in place", () => {
  it("two locations miss one key at once; the second one's put gets 429; a third location still finds the first's entry", async () => {
    const { sites } = locations(3, SETTINGS);
    const [first, second, victim] = sites as [(typeof sites)[0], (typeof sites)[0], (typeof sites)[0]];
    const path = origin.path();
    await origin.script(path, { hold: true, body: "second v{n}" }, { body: "first v{n}" }, { body: "later v{n}" });

    // The second location asks first, and its answer is held at the origin.
    const slow = second.start(path);
    await until(async () => (await origin.held(path)) === 1, "the second location reached the origin");
    const stored = await first.get(path);
    expect(stored.text).toBe("first v2");
    expect(stored.cacheStatus).toMatch(/stored/);
    await origin.release(path);
    const slowRes = await slow.response;
    expect(await slowRes.text()).toBe("second v1");
    await slow.done();

    const got = await victim.get(path);
    expect(got.status).toBe(200);
    expect(got.text).toBe("first v2");
    expect(got.cacheStatus).toMatch(/^edge-cache; hit;.*detail=kv/);
    expect(await origin.count(path)).toBe(2);
  });

  it("a failed put of a Vary index keeps the index another location wrote, and its variants", async () => {
    const { sites } = locations(3, SETTINGS);
    const [first, second, victim] = sites as [(typeof sites)[0], (typeof sites)[0], (typeof sites)[0]];
    const path = origin.path();
    await origin.script(path, { body: "v{n}", headers: { vary: "Accept-Language" } });

    expect((await first.get(path, { headers: { "accept-language": "en" } })).cacheStatus).toMatch(/stored/);
    // A new variant: its own key is new (written), the index's is not (429).
    expect((await second.get(path, { headers: { "accept-language": "de" } })).text).toBe("v2");

    const got = await victim.get(path, { headers: { "accept-language": "en" } });
    expect(got.status).toBe(200);
    expect(got.text).toBe("v1");
    expect(got.cacheStatus).toMatch(/^edge-cache; hit;.*detail=kv/);
    expect(await origin.count(path)).toBe(2);
  });
});
