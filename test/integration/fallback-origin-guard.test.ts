/**
 * `fallbackOrigin` obeys the same guard as `origin` (src/admin/origin-guard.ts): an
 * uploaded file may name only the deployment's own origins or hosts ALLOWED_ORIGINS lists.
 */
import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { origin } from "../support/origin";

const withFallback = (fallback: string) =>
  JSON.stringify({ version: 1, origin: origin.url, routes: [{ name: "all", match: { path: "/*" }, fallbackOrigin: fallback }] });

describe("fallbackOrigin in an uploaded rules file", () => {
  it("another host is refused (422) at its path; nothing changes", async () => {
    const h = adminHarness({ fixedRules: false });
    const res = await h.admin("PUT", "rules", withFallback("https://attacker.example"));
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({
      error: "invalid-rules",
      problems: [{ severity: "error", path: "$.routes[0].fallbackOrigin", message: expect.stringContaining("https://attacker.example") }],
    });
    expect((await h.admin("GET", "rules")).json).toMatchObject({ source: "bundled" });
  });

  it("a host ALLOWED_ORIGINS lists, or the deployment's own origin, is accepted", async () => {
    const allowed = adminHarness({ fixedRules: false, env: { ALLOWED_ORIGINS: `${origin.url}, backup.example` } });
    expect((await allowed.admin("PUT", "rules", withFallback("https://backup.example/base"))).status).toBe(200);
    const own = adminHarness({ fixedRules: false });
    expect((await own.admin("PUT", "rules", withFallback(`${origin.url}/backup`))).status).toBe(200);
  });
});
