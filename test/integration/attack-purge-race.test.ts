/**
 * Issue 10, item 11: the purge cut-off is the time the origin request was sent. An
 * answer the origin began before a purge (its headers arriving after it) must not
 * outlive the purge: the next request gets a new answer.
 */
import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { SITE } from "../support/harness";
import { origin } from "../support/origin";
import { until } from "../support/until";


describe("a purge issued while the origin is still answering cuts that answer off", () => {
  it.each([
    ["a URL purge", (path: string) => ({ urls: [`${SITE}${path}`] })],
    ["a tag purge", () => ({ tags: ["prices"] })],
  ])("%s between the origin request and its headers", async (_what, purge) => {
    const h = adminHarness({ defaults: { ttl: { edge: 600, kv: 600 }, tags: ["prices"] } });
    const path = origin.path();
    await origin.script(path, { hold: true, body: "price before {n}" }, { body: "price after {n}" });

    // The request is sent, and the origin holds its headers.
    const inFlight = h.start(path);
    await until(async () => (await origin.held(path)) === 1, "the request reached the origin");
    h.clock.advance(1);
    expect((await h.purge(purge(path))).status).toBe(200);
    h.clock.advance(5);
    await origin.release(path);
    const first = await inFlight.response;
    // The answer the origin began before the purge still goes to the one who asked.
    expect(await first.text()).toBe("price before 1");
    await inFlight.done();

    const explained = await h.explain(`url=${encodeURIComponent(path)}`);
    expect((explained.json?.state as { edge: unknown }).edge).toMatchObject({ present: true, freshness: "purged", purged: "hard" });

    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("price after 2");
    expect(victim.cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await origin.count(path)).toBe(2);
  });

  it("an answer requested after the purge is kept", async () => {
    const h = adminHarness({ defaults: { ttl: { edge: 600, kv: 600 } } });
    const path = origin.path();
    await origin.script(path, { body: "v{n}" });
    expect((await h.purge({ urls: [`${SITE}${path}`] })).status).toBe(200);
    h.clock.advance(2);
    expect((await h.get(path)).cacheStatus).toMatch(/stored/);

    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("v1");
    expect(victim.cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(await origin.count(path)).toBe(1);
  });
});
