/**
 * Issue 10 item 3: with `key.query.sort`, the values of one name keep their order, so
 * a client's `?a=2&a=1` is never answered with what the origin says to `?a=1&a=2`.
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

describe("sorted query keys keep the order of repeated names", () => {
  const h = harness({ defaults: { ttl: { edge: 600 }, key: { query: { sort: true } } } });

  it("attacker's ?a=2&a=1 and the victim's ?a=1&a=2 are two keys, each forwarded as sent", async () => {
    const path = origin.path();
    await origin.script(path, { body: "answer {n}" });
    const attacker = await h.get(`${path}?b=0&a=2&a=1`);
    expect(attacker.status).toBe(200);
    expect(attacker.text).toBe("answer 1");
    expect(attacker.cacheStatus).toMatch(/fwd=uri-miss; stored/);
    const victim = await h.get(`${path}?a=1&a=2&b=0`);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("answer 2");
    expect(victim.cacheStatus).toMatch(/fwd=uri-miss; stored/);
    expect((await origin.requests(path)).map((r) => r.url)).toEqual([`${path}?a=2&a=1&b=0`, `${path}?a=1&a=2&b=0`]);
    // Different names still meet in any order.
    expect((await h.get(`${path}?a=1&b=0&a=2`)).text).toBe("answer 2");
    expect(await origin.count(path)).toBe(2);
  });
});
