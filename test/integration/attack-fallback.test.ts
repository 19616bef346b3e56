/**
 * Issue 10 item 12: when the proxy fails on our side, the fallback goes to the origin
 * as a bypass would, and never sends one request twice.
 */
import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/index";
import { drive, originRules, TestClock } from "../support/harness";
import { origin } from "../support/origin";

/** A Worker whose route matching (before any send) or whose last step (after the send) throws, standing for a bug of ours. */
function brokenWorker(where: "before-send" | "after-send") {
  const clock = new TestClock();
  const rules = originRules();
  const route = rules.routes[0]!;
  if (where === "before-send") {
    (route.match as { testPath: unknown }).testPath = () => { throw new Error("bug before the send"); };
  } else {
    Object.defineProperty(route, "debug", { get: () => { throw new Error("bug after the send"); } });
  }
  return drive(createWorker({ clock, rules, log: () => {} }), clock);
}

describe("the exception fallback", () => {
  it("before anything was sent: one origin request, hop-by-hop and internal headers stripped both ways", async () => {
    const w = brokenWorker("before-send");
    const path = origin.path();
    await origin.script(path, { body: "from origin", headers: { "x-edge-cache-debug": "internal", "cache-control": "max-age=600" } });
    const got = await w.request(path, { headers: { connection: "x-secret", "x-secret": "hop", "x-edge-cache-route": "forged", "keep-alive": "timeout=5" } });
    expect(got.status).toBe(200);
    expect(got.text).toBe("from origin");
    expect(got.cacheStatus).toBe("edge-cache; fwd=bypass; detail=error");
    expect(got.headers.get("x-edge-cache-debug")).toBeNull();
    const seen = await origin.requests(path);
    expect(seen).toHaveLength(1);
    for (const name of ["x-secret", "x-edge-cache-route", "keep-alive"]) expect(seen[0]?.headers[name], name).toBeUndefined();
    // Nothing was stored: the next request goes to the origin again, once.
    await w.request(path);
    expect(await origin.count(path)).toBe(2);
  });

  it("after the request was sent: a 502 saying so, and the origin saw it once (a POST is not replayed)", async () => {
    const w = brokenWorker("after-send");
    const path = origin.path();
    await origin.script(path, { body: "order placed {n}" });
    const got = await w.request(path, { method: "POST", body: "buy=1" });
    expect(got.status).toBe(502);
    expect(got.text).toContain("it was not sent again");
    expect(got.cacheStatus).toBe("edge-cache; fwd=bypass; detail=error");
    const seen = await origin.requests(path);
    expect(seen.map((r) => [r.method, r.body])).toEqual([["POST", "buy=1"]]);
    const get = await w.request(path);
    expect(get.status).toBe(502);
    expect(await origin.count(path)).toBe(2);
  });
});
