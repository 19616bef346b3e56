/**
 * Issue 10, the admin API as an attacker sees it: prefix spellings an origin reads as
 * another path (item 5); a stolen token, short tokens, guessing (item 13).
 */
import { describe, expect, it } from "vitest";
import { adminHarness, TOKEN } from "../support/admin-harness";
import { origin } from "../support/origin";

describe("a ;parameter on the admin prefix is still the admin prefix", () => {
  it("GET /.edge-cache;x/rules with the token never reaches the origin nor a cache; the victim's copy is a 401", async () => {
    const h = adminHarness({ defaults: { ttl: { edge: 600 }, origin: "override" } });
    const path = "/.edge-cache;x/rules";
    await origin.script(path, { body: "origin saw the token", headers: { "cache-control": "max-age=600" } });
    const attacker = await h.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(attacker.status).toBe(200);
    expect(JSON.parse(attacker.text)).toMatchObject({ source: "options" });
    expect(attacker.headers.get("cache-control")).toBe("no-store");
    const victim = await h.request(path);
    expect(victim.status).toBe(401);
    expect(victim.cacheStatus).toBe("");
    expect(victim.text).not.toContain("origin saw");
    for (const p of [path, "/.EDGE-CACHE;a=b/purge", "/.edge-cache%3Bx/explain"]) {
      expect((await h.request(p, { method: "GET" })).status).toBe(401);
    }
    expect(await origin.count(path)).toBe(0);
  });
});
