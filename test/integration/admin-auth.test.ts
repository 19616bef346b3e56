import { describe, expect, it } from "vitest";
import { adminHarness, TOKEN } from "../support/admin-harness";
import { origin } from "../support/origin";

const UNAUTHORIZED = {
  error: "unauthorized",
  message: 'Send the admin token as "Authorization: Bearer <token>" (the ADMIN_TOKEN secret of this Worker).',
};

describe("admin API: authentication", () => {
  it("no token configured: disabled for everyone, even with a token in hand", async () => {
    for (const token of [undefined, ""]) {
      const h = adminHarness({ env: { ADMIN_TOKEN: token } });
      for (const auth of [null, TOKEN, ""]) {
        const res = await h.admin("GET", "rules", undefined, auth);
        expect(res.status).toBe(403);
        expect(res.json).toEqual({
          error: "admin-disabled",
          message:
            "The admin API is disabled because no ADMIN_TOKEN is configured. Set one with `wrangler secret put ADMIN_TOKEN` (locally: `npm start -- --admin-token TOKEN`).",
        });
        expect(res.headers.get("cache-control")).toBe("no-store");
      }
      expect(h.adminLogs().map((l) => l.result)).toEqual(["disabled", "disabled", "disabled"]);
    }
  });

  it("every wrong or missing credential gets the very same 401", async () => {
    const h = adminHarness();
    const attempts: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: "" },
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: "Bearer wrong-token" },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` },
      { authorization: TOKEN },
      { authorization: `Bearer ${TOKEN} extra` },
      { "x-admin-token": TOKEN },
    ];
    const answers = [];
    for (const headers of attempts) {
      const res = await h.request("/.edge-cache/rules", { headers });
      answers.push({ status: res.status, body: res.text, wwwAuth: res.headers.get("www-authenticate"), cc: res.headers.get("cache-control") });
    }
    const expected = { status: 401, body: `${JSON.stringify(UNAUTHORIZED, null, 2)}\n`, wwwAuth: 'Bearer realm="edge-cache"', cc: "no-store" };
    expect(answers).toEqual(attempts.map(() => expected));
    expect(h.adminLogs().every((l) => l.status === 401)).toBe(true);
    expect(h.adminLogs().map((l) => l.result)).toEqual(["missing", "missing", "missing", "missing", "wrong", "wrong", "wrong", "missing", "missing", "missing", "missing"]);
  });

  it("the right token works, with the scheme in any case", async () => {
    const h = adminHarness();
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const res = await h.request("/.edge-cache/rules", { headers: { authorization: `${scheme} ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("a token in the query string is refused, even next to a good header", async () => {
    const h = adminHarness();
    for (const q of ["token", "access_token", "Token", "key"]) {
      const res = await h.request(`/.edge-cache/rules?${q}=${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toEqual({
        error: "token-in-query",
        message: `Credentials are not accepted in the URL (parameter "${q}"): URLs end up in logs and browser history. Send "Authorization: Bearer <token>" instead, and rotate the token if it was a real one.`,
      });
    }
  });

  it("logs one JSON line per admin request with a token fingerprint, never the token", async () => {
    const h = adminHarness();
    await h.admin("GET", "rules");
    await h.admin("GET", "rules", undefined, "not-the-token");
    await h.admin("GET", "rules", undefined, null);
    const lines = h.adminLogs();
    expect(lines).toHaveLength(3);
    const [ok, wrong, missing] = lines;
    expect(ok).toEqual({ msg: "admin", action: "rules", method: "GET", result: "ok", status: 200, token: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(wrong).toEqual({ msg: "admin", action: "rules", method: "GET", result: "wrong", status: 401, token: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(wrong!.token).not.toBe(ok!.token);
    expect(missing).toEqual({ msg: "admin", action: "rules", method: "GET", result: "missing", status: 401, token: null });
    expect(JSON.stringify(h.logs)).not.toContain(TOKEN);
    expect(JSON.stringify(h.logs)).not.toContain("not-the-token");
  });

  it("unknown endpoints and wrong methods answer after authentication, with what to use", async () => {
    const h = adminHarness();
    expect((await h.admin("GET", "nope", undefined, null)).status).toBe(401);
    const unknown = await h.admin("GET", "nope");
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: "not-found", message: 'No admin endpoint "nope": use /.edge-cache/purge, /.edge-cache/purges, /.edge-cache/explain, /.edge-cache/rules, /.edge-cache/stats, /.edge-cache/traffic, /.edge-cache/try-rules.' });
    const wrong = await h.admin("GET", "purge");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(wrong.json).toEqual({ error: "method-not-allowed", message: "/.edge-cache/purge takes POST, not GET." });
    const rules = await h.admin("POST", "rules", {});
    expect(rules.status).toBe(405);
    expect(rules.headers.get("allow")).toBe("GET, PUT, DELETE");
  });

  it("bodies over the cap are refused before they are read whole; item counts are capped", async () => {
    const h = adminHarness();
    const big = await h.purge({ tags: ["x".repeat(70 * 1024)] });
    expect(big.status).toBe(413);
    expect(big.json).toEqual({ error: "too-large", message: "The body is over 65536 bytes, the most this endpoint accepts: send less per request." });
    const many = await h.purge({ tags: Array.from({ length: 101 }, (_, i) => `t${i}`) });
    expect(many.status).toBe(400);
    expect(many.json).toEqual({ error: "invalid-purge", message: '"tags" has 101 items; at most 100 per request: split it into several requests' });
    const hugeRules = await h.admin("PUT", "rules", " ".repeat(600 * 1024));
    expect(hugeRules.status).toBe(413);
  });
});

describe("admin API: the reserved prefix in every spelling", () => {
  const spellings = [
    "/.edge-cache/rules",
    "/.EDGE-CACHE/rules",
    "/.Edge-Cache/RULES",
    "/%2eedge-cache/rules",
    "/%2Eedge-cache/rules",
    "/.edge-cache%2Frules",
    "/.edge-cache%2frules",
    "//.edge-cache//rules",
    "/.edge-cache/./rules",
    "/x/../.edge-cache/rules",
    "/x/%2e%2e/.edge-cache/rules",
    "/%2e%65dge-cache/rules",
    "/%252eedge-cache/rules",
    "/.edge-cache\\rules",
    "/.edge-cache/rules/",
  ];
  for (const spelling of spellings) {
    it(`${spelling}: admin (401 without the token, the rules with it), never the origin`, async () => {
      const h = adminHarness();
      const denied = await h.request(spelling);
      expect(denied.status).toBe(401);
      expect(denied.cacheStatus).toBe("");
      const allowed = await h.request(spelling, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(allowed.status).toBe(200);
      expect(JSON.parse(allowed.text)).toMatchObject({ source: "options", routes: ["all"] });
      expect(allowed.headers.get("cache-control")).toBe("no-store");
    });
  }

  it("nothing under the prefix ever reached the origin", async () => {
    const h = adminHarness();
    await h.request("/.edge-cache/anything/else");
    await h.request("/.EDGE-CACHE/purge", { method: "POST", body: "{}" });
    await h.request("/.edge-cache");
    for (const path of ["/.edge-cache/rules", "/.EDGE-CACHE/rules", "/.edge-cache/anything/else", "/.EDGE-CACHE/purge", "/.edge-cache", "/.edge-cache/purge"]) {
      expect(await origin.count(path)).toBe(0);
    }
  });
});
