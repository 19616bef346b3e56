import { describe, expect, it } from "vitest";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

// Invariant 1: what may differ per user is never stored, whatever the rule's TTL says.
describe("never stored", () => {
  const h = harness({ defaults: { ttl: { edge: 600, kv: 600 }, origin: "override" } });

  const cases: [string, Record<string, string>, string][] = [
    ["Set-Cookie", { "set-cookie": "session=abc; Path=/" }, "set-cookie"],
    ["Cache-Control: private", { "cache-control": "private, max-age=600" }, "private"],
    ["Cache-Control: no-store", { "cache-control": "no-store" }, "no-store"],
    ["Vary: *", { vary: "*" }, "vary-star"],
  ];
  for (const [name, headers, reason] of cases) {
    it(`${name}: origin asked every time, reason in Cache-Status`, async () => {
      const path = origin.path();
      await origin.script(path, { headers, body: "per-user {n}" });
      const a = await h.get(path);
      const b = await h.get(path);
      expect(a.cacheStatus).toBe(`edge-cache; fwd=uri-miss; detail=${reason}`);
      expect(b.text).toBe("per-user 2");
      expect(await origin.count(path)).toBe(2);
    });
  }

  it("Set-Cookie is passed to the client on the miss", async () => {
    const path = origin.path();
    await origin.script(path, { headers: { "set-cookie": "session=abc" } });
    expect((await h.get(path)).headers.get("set-cookie")).toBe("session=abc");
  });

  it("a body cut short of its Content-Length is never stored", async () => {
    const path = origin.path();
    await origin.script(path, { bodyBytes: 4096, truncateAt: 1000 }, { body: "whole" });
    await h.get(path).catch(() => undefined);
    const next = await h.get(path);
    expect(next.text).toBe("whole");
    expect(next.cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=600");
    expect(await origin.count(path)).toBe(2);
  });

  it("statuses outside the cacheable set are not stored (500)", async () => {
    const path = origin.path();
    await origin.script(path, { status: 500, body: "boom" });
    const a = await h.get(path);
    expect(a.status).toBe(500);
    expect(a.cacheStatus).toBe("edge-cache; fwd=uri-miss; detail=status");
    await h.get(path);
    expect(await origin.count(path)).toBe(2);
  });
});
