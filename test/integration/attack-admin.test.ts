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

describe("a stolen token cannot send the site's traffic elsewhere", () => {
  const rulesTo = (originUrl: string | undefined, path: string) =>
    JSON.stringify({ version: 1, ...(originUrl ? { origin: originUrl } : {}), routes: [{ name: "all", match: { path: `${path}*` }, bypass: true }] });

  it("PUT /rules with origin set to another host is refused (422); the victim's bypassed request still goes to the real origin", async () => {
    const h = adminHarness({ fixedRules: false });
    const path = origin.path();
    await origin.script(path, { body: "real origin saw {n}" });
    expect((await h.admin("PUT", "rules", rulesTo(origin.url, path))).status).toBe(200);
    const attacker = await h.admin("PUT", "rules", rulesTo("https://attacker.example", path));
    expect(attacker.status).toBe(422);
    expect(attacker.json).toMatchObject({
      error: "invalid-rules",
      problems: [{ severity: "error", path: "$.origin", message: expect.stringContaining("https://attacker.example") }],
    });
    const victim = await h.get(path, { headers: { cookie: "session=secret", authorization: "Bearer user" } });
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("real origin saw 1");
    expect(victim.cacheStatus).toBe("edge-cache; fwd=bypass; detail=route");
    expect(await origin.count(path)).toBe(1);
  });

  it("a host the deployment lists in ALLOWED_ORIGINS (host or origin form), or none at all, is accepted", async () => {
    for (const allowed of [new URL(origin.url).host, origin.url, `other.example, ${origin.url}`]) {
      const h = adminHarness({ fixedRules: false, env: { ALLOWED_ORIGINS: allowed } });
      const path = origin.path();
      await origin.script(path, { body: "real origin" });
      const res = await h.admin("PUT", "rules", rulesTo(origin.url, path));
      expect(res.status, allowed).toBe(200);
      expect((await h.get(path)).text).toBe("real origin");
    }
    const none = adminHarness({ fixedRules: false, env: { ALLOWED_ORIGINS: undefined } });
    expect((await none.admin("PUT", "rules", rulesTo(undefined, "/x"))).status).toBe(200);
    expect((await none.admin("PUT", "rules", rulesTo(origin.url, "/x"))).status).toBe(422);
  });

  it("fixed rules' own origin may be uploaded again without ALLOWED_ORIGINS", async () => {
    const h = adminHarness({ env: { ALLOWED_ORIGINS: undefined } });
    expect((await h.admin("PUT", "rules", rulesTo(origin.url, "/x"))).status).toBe(200);
    expect((await h.admin("PUT", "rules", rulesTo("http://127.0.0.1:1", "/x"))).status).toBe(422);
  });
});

describe("ADMIN_TOKEN shorter than 32 characters is refused", () => {
  it("even the right short token gets 403 with a clear message; nothing is done", async () => {
    const short = "0123456789abcdef0123456789abcde"; // 31
    const h = adminHarness({ env: { ADMIN_TOKEN: short } });
    const res = await h.admin("POST", "purge", { everything: true }, short);
    expect(res.status).toBe(403);
    expect(res.json).toEqual({
      error: "admin-token-too-short",
      message: "The admin API is disabled: ADMIN_TOKEN is 31 characters; it must be at least 32 (generate one with `openssl rand -hex 32`). Set a longer one with `wrangler secret put ADMIN_TOKEN`.",
    });
    expect(h.adminLogs().map((l) => l.result)).toEqual(["weak-token"]);
    const ok = adminHarness({ env: { ADMIN_TOKEN: `${short}f` } });
    expect((await ok.admin("GET", "rules", undefined, `${short}f`)).status).toBe(200);
  });
});

describe("failed admin authentications are rate limited per client address", () => {
  it("after 20 failures in a minute an address gets 429, even with the right token; other addresses and later minutes do not", async () => {
    const h = adminHarness();
    const from = (ip: string, token: string) => h.request("/.edge-cache/rules", { headers: { "cf-connecting-ip": ip, authorization: `Bearer ${token}` } });
    for (let i = 0; i < 20; i++) expect((await from("203.0.113.9", `guess-${i}`)).status).toBe(401);
    const blocked = await from("203.0.113.9", TOKEN);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("60");
    expect(JSON.parse(blocked.text)).toMatchObject({ error: "too-many-failures" });
    expect((await from("198.51.100.7", TOKEN)).status).toBe(200);
    h.clock.advance(60);
    expect((await from("203.0.113.9", TOKEN)).status).toBe(200);
    expect(h.adminLogs().filter((l) => l.result === "throttled")).toHaveLength(1);
  });
});

describe("one failed-login throttle for every way a token is presented (issue 21, item 9)", () => {
  const PURGE_TOKEN = "cms-purge-token-0123456789abcdefghij";
  const path = "/throttled/page";
  const purgeFrom = (h: ReturnType<typeof adminHarness>, ip: string, headers: Record<string, string>) =>
    h.request(path, { method: "PURGE", headers: { "cf-connecting-ip": ip, ...headers } });
  const adminFrom = (h: ReturnType<typeof adminHarness>, ip: string, token: string) =>
    h.request("/.edge-cache/rules", { headers: { "cf-connecting-ip": ip, authorization: `Bearer ${token}` } });

  it("PURGE guesses (Bearer and X-Purge-Token) are throttled, and count against the admin API too", async () => {
    const h = adminHarness({ env: { PURGE_TOKEN } });
    const ip = "203.0.113.50";
    for (let i = 0; i < 10; i++) expect((await purgeFrom(h, ip, { authorization: `Bearer guess-${i}` })).status).toBe(401);
    for (let i = 0; i < 10; i++) expect((await purgeFrom(h, ip, { "x-purge-token": `guess-${i}` })).status).toBe(401);
    const blocked = await purgeFrom(h, ip, { "x-purge-token": PURGE_TOKEN });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("60");
    expect(JSON.parse(blocked.text)).toMatchObject({ error: "too-many-failures" });
    // The same guesser cannot move over to the admin API...
    expect((await adminFrom(h, ip, TOKEN)).status).toBe(429);
    // ...while everyone else purges, and the window ends.
    expect((await purgeFrom(h, "198.51.100.8", { "x-purge-token": PURGE_TOKEN })).status).toBe(200);
    h.clock.advance(60);
    expect((await purgeFrom(h, ip, { "x-purge-token": PURGE_TOKEN })).status).toBe(200);
    expect(await origin.count(path)).toBe(0);
  });

  it("admin API guesses make PURGE answer 429 as well", async () => {
    const h = adminHarness({ env: { PURGE_TOKEN } });
    const ip = "203.0.113.51";
    for (let i = 0; i < 20; i++) expect((await adminFrom(h, ip, `guess-${i}`)).status).toBe(401);
    expect((await purgeFrom(h, ip, { authorization: `Bearer ${PURGE_TOKEN}` })).status).toBe(429);
  });

  it("an IPv6 client is counted by its /64: rotating addresses inside it does not reset the count", async () => {
    const h = adminHarness({ env: { PURGE_TOKEN } });
    for (let i = 0; i < 20; i++) {
      const ip = `2001:db8:aa:bb:${(i + 1).toString(16)}::${i % 2 === 0 ? "1" : "beef"}`;
      const res = i % 2 === 0 ? await adminFrom(h, ip, `guess-${i}`) : await purgeFrom(h, ip, { "x-purge-token": `guess-${i}` });
      expect(res.status).toBe(401);
    }
    expect((await adminFrom(h, "2001:db8:aa:bb:ffff:ffff:ffff:ffff", TOKEN)).status).toBe(429);
    expect((await adminFrom(h, "2001:0db8:00aa:00bb::", TOKEN)).status).toBe(429);
    expect((await purgeFrom(h, "2001:db8:aa:bb::7", { "x-purge-token": PURGE_TOKEN })).status).toBe(429);
    // The next /64 is another client.
    expect((await adminFrom(h, "2001:db8:aa:bc::1", TOKEN)).status).toBe(200);
    // IPv4 keeps its whole address: a neighbour is not blocked.
    for (let i = 0; i < 20; i++) await adminFrom(h, "192.0.2.1", `guess-${i}`);
    expect((await adminFrom(h, "192.0.2.1", TOKEN)).status).toBe(429);
    expect((await adminFrom(h, "192.0.2.2", TOKEN)).status).toBe(200);
  });

  it("an address in PURGE_ALLOW guesses nothing, so a neighbour's failures in its /64 never lock it out of PURGE", async () => {
    const h = adminHarness({ env: { PURGE_TOKEN, PURGE_ALLOW: "2001:db8:cc:dd::10" } });
    for (let i = 0; i < 20; i++) await purgeFrom(h, "2001:db8:cc:dd::66", { "x-purge-token": `guess-${i}` });
    expect((await purgeFrom(h, "2001:db8:cc:dd::66", { "x-purge-token": PURGE_TOKEN })).status).toBe(429);
    expect((await purgeFrom(h, "2001:db8:cc:dd::10", {})).status).toBe(200);
  });
});
