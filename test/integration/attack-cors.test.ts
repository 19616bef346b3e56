/**
 * Issue 10 item 4: an origin that reflects the request's Origin into
 * Access-Control-Allow-Origin without `Vary: Origin` is not stored; with it, each
 * Origin gets its own variant.
 */
import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

describe("CORS reflection", () => {
  const h = harness({ defaults: { ttl: { edge: 600 } } });

  it("without Vary: Origin: the attacker's answer is not stored; the victim gets its own", async () => {
    const path = origin.path();
    await origin.script(
      path,
      { headers: { "access-control-allow-origin": "https://evil.example", "access-control-allow-credentials": "true" }, body: "data {n}" },
      { headers: { "access-control-allow-origin": "https://shop.example", "access-control-allow-credentials": "true" }, body: "data {n}" },
    );
    const attacker = await h.get(path, { headers: { origin: "https://evil.example" } });
    expect(attacker.status).toBe(200);
    expect(attacker.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=cors-origin");
    const victim = await h.get(path, { headers: { origin: "https://shop.example" } });
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("data 2");
    expect(victim.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(victim.cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await origin.count(path)).toBe(2);
  });

  it("with Vary: Origin, or Allow-Origin *: stored (per Origin under Vary)", async () => {
    const path = origin.path();
    await origin.script(
      path,
      { headers: { "access-control-allow-origin": "https://a.example", vary: "Origin" }, body: "a" },
      { headers: { "access-control-allow-origin": "https://b.example", vary: "Origin" }, body: "b" },
    );
    expect((await h.get(path, { headers: { origin: "https://a.example" } })).cacheStatus).toMatch(/stored/);
    const b = await h.get(path, { headers: { origin: "https://b.example" } });
    expect(b.text).toBe("b");
    const a = await h.get(path, { headers: { origin: "https://a.example" } });
    expect([a.text, a.headers.get("access-control-allow-origin")]).toEqual(["a", "https://a.example"]);
    expect(a.cacheStatus).toMatch(/^edge-cache; hit;/);
    const star = origin.path();
    await origin.script(star, { headers: { "access-control-allow-origin": "*" }, body: "open" });
    await h.get(star, { headers: { origin: "https://a.example" } });
    expect((await h.get(star, { headers: { origin: "https://b.example" } })).cacheStatus).toMatch(/^edge-cache; hit;/);
  });
});
