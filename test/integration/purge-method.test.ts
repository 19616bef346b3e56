/**
 * `PURGE` in the Varnish convention, through the Worker: what each form purges, who
 * may send it (tokens, PURGE_ALLOW), and that it never reaches the origin.
 */
import { describe, expect, it } from "vitest";
import { adminHarness, TOKEN } from "../support/admin-harness";
import { SITE } from "../support/harness";
import { origin } from "../support/origin";

const PURGE_TOKEN = "cms-purge-token-0123456789abcdefghij";

function setup(env: Record<string, string> = { PURGE_TOKEN }) {
  const id = crypto.randomUUID().slice(0, 8);
  const h = adminHarness({
    env,
    routes: [{ name: `r-${id}`, match: { path: `/m${id}/*` }, ttl: { edge: 600 }, key: { device: true } }],
  });
  return { h, base: `/m${id}` };
}

const IPHONE = { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148" };

async function stored(h: ReturnType<typeof adminHarness>, path: string, headers: Record<string, string> = {}) {
  await h.get(path, { headers });
  expect((await h.get(path, { headers })).cacheStatus).toMatch(/^edge-cache; hit;/);
}

const purge = (h: ReturnType<typeof adminHarness>, path: string, headers: Record<string, string>) => h.request(path, { method: "PURGE", headers });
const missed = async (h: ReturnType<typeof adminHarness>, path: string, headers: Record<string, string> = {}) =>
  (await h.get(path, { headers })).cacheStatus.includes("fwd=uri-miss");

describe("PURGE <url>", () => {
  it("purges that URL with all its variants and answers as POST /.edge-cache/purge does", async () => {
    const { h, base } = setup();
    const page = `${base}/page`;
    const other = `${base}/other`;
    await stored(h, page);
    await stored(h, page, IPHONE);
    await stored(h, other);
    const res = await purge(h, page, { authorization: `Bearer ${PURGE_TOKEN}` });
    expect(res.status).toBe(200);
    // Plugins purge over http:// by default: both schemes go.
    expect(JSON.parse(res.text)).toMatchObject({ purged: { kind: "urls", values: [`${SITE}${page}`, `${SITE.replace("https:", "http:")}${page}`], soft: false }, deleted: 2 });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await missed(h, page)).toBe(true);
    expect(await missed(h, page, IPHONE)).toBe(true);
    expect(await missed(h, other)).toBe(false);
    expect((await origin.requests(page)).map((r) => r.method)).toEqual(["GET", "GET", "GET", "GET"]);
  });

  it("a path ending in * purges the prefix", async () => {
    const { h, base } = setup();
    await stored(h, `${base}/blog/a`);
    await stored(h, `${base}/blog/b?x=1`);
    await stored(h, `${base}/shop/c`);
    const res = await purge(h, `${base}/blog/*`, { "x-purge-token": PURGE_TOKEN });
    expect(JSON.parse(res.text).purged).toEqual({ kind: "prefixes", values: [`${SITE}${base}/blog/`], soft: false });
    expect(await missed(h, `${base}/blog/a`)).toBe(true);
    expect(await missed(h, `${base}/blog/b?x=1`)).toBe(true);
    expect(await missed(h, `${base}/shop/c`)).toBe(false);
  });

  it("X-Purge-Method: regex purges every URL the pattern can match, as its literal prefix", async () => {
    const { h, base } = setup();
    await stored(h, `${base}/a/page?x=1`);
    await stored(h, `${base}/a/other`);
    await stored(h, `${base}/b/page`);
    const res = await purge(h, `${base}/a/pa[g]e.*`, { "x-purge-token": PURGE_TOKEN, "x-purge-method": "regex" });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).purged).toEqual({ kind: "prefixes", values: [`${SITE}${base}/a/pa`], soft: false });
    expect(await missed(h, `${base}/a/page?x=1`)).toBe(true);
    expect(await missed(h, `${base}/a/other`)).toBe(false);
    expect(await missed(h, `${base}/b/page`)).toBe(false);
    // What Proxy Cache Purge sends to empty the cache: the whole host (one of this test's own).
    const host = `https://h${base.slice(2)}.test`;
    await stored(h, `${host}${base}/b/page`);
    const all = await purge(h, `${host}/.*`, { "x-purge-token": PURGE_TOKEN, "x-purge-method": "regex" });
    expect(JSON.parse(all.text).purged).toEqual({ kind: "prefixes", values: [`${host}/`], soft: false });
    expect(await missed(h, `${host}${base}/b/page`)).toBe(true);
    expect(await missed(h, `${base}/b/page`)).toBe(false);
  });

  it("refuses a pattern it does not accept, saying why", async () => {
    const { h, base } = setup();
    const res = await purge(h, `${base}/(a)%5C1`, { "x-purge-token": PURGE_TOKEN, "x-purge-method": "regex" });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).message).toMatch(/backreferences are not accepted/);
    const long = await purge(h, `/${"a".repeat(300)}`, { "x-purge-token": PURGE_TOKEN, "x-purge-method": "regex" });
    expect(JSON.parse(long.text).message).toMatch(/longer than 256/);
  });

  it("X-Purge-Tags (or Surrogate-Key) purges tags; X-Purge-Soft: 1 keeps them as stale", async () => {
    const { h, base } = setup();
    const tagged = `${base}/tagged`;
    await origin.script(tagged, { headers: { "surrogate-key": "post-1 home" } }, { headers: { "surrogate-key": "post-1 home" } });
    await stored(h, tagged);
    await stored(h, `${base}/plain`);
    const res = await purge(h, "/", { "x-purge-token": PURGE_TOKEN, "x-purge-tags": "post-1, post-2", "x-purge-soft": "1" });
    expect(JSON.parse(res.text).purged).toEqual({ kind: "tags", values: ["post-1", "post-2"], soft: true });
    expect((await h.get(tagged)).cacheStatus).toMatch(/fwd=stale/);
    expect(await missed(h, `${base}/plain`)).toBe(false);
    const bySurrogate = await purge(h, "/", { "x-purge-token": PURGE_TOKEN, "surrogate-key": "home" });
    expect(JSON.parse(bySurrogate.text).purged).toEqual({ kind: "tags", values: ["home"], soft: false });
  });
});

describe("who may PURGE", () => {
  it("a wrong or missing token is 401, and the PURGE never reaches the origin", async () => {
    const { h, base } = setup();
    const path = `${base}/x`;
    for (const headers of [{}, { authorization: "Bearer nope" }, { "x-purge-token": "nope" }] as Record<string, string>[]) {
      const res = await purge(h, path, headers);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text).error).toBe("unauthorized");
    }
    expect(await origin.count(path)).toBe(0);
  });

  it("the admin token works as well as the purge token; a token under 32 characters is never accepted", async () => {
    const { h, base } = setup();
    expect((await purge(h, `${base}/x`, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const short = setup({ PURGE_TOKEN: "short-token" });
    expect((await purge(short.h, `${short.base}/x`, { "x-purge-token": "short-token" })).status).toBe(401);
  });

  it("PURGE_ALLOW lets listed addresses (IPs, IPv4 and IPv6 ranges) purge without a token, checked against CF-Connecting-IP", async () => {
    const { h, base } = setup({ PURGE_ALLOW: "192.0.2.10, 10.1.0.0/16 2001:db8::/32" });
    const from = (ip: string) => purge(h, `${base}/x`, { "cf-connecting-ip": ip });
    expect((await from("192.0.2.10")).status).toBe(200);
    expect((await from("10.1.200.3")).status).toBe(200);
    expect((await from("2001:db8:1::5")).status).toBe(200);
    expect((await from("::ffff:10.1.0.9")).status).toBe(200);
    expect((await from("192.0.2.11")).status).toBe(401);
    expect((await from("10.2.0.1")).status).toBe(401);
    expect((await from("2001:db9::1")).status).toBe(401);
    expect((await purge(h, `${base}/x`, {})).status).toBe(401);
  });

  it("with neither a token nor PURGE_ALLOW configured, PURGE is 405, and still never reaches the origin", async () => {
    const { h, base } = setup({ ADMIN_TOKEN: "", PURGE_TOKEN: "" });
    const res = await purge(h, `${base}/x`, { authorization: "Bearer anything" });
    expect(res.status).toBe(405);
    expect(JSON.parse(res.text).error).toBe("purge-disabled");
    expect(await origin.count(`${base}/x`)).toBe(0);
  });

  it("a bad header is a 400 that says what to write", async () => {
    const { h, base } = setup();
    const res = await purge(h, `${base}/x`, { "x-purge-token": PURGE_TOKEN, "x-purge-method": "ban" });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).message).toBe('X-Purge-Method must be regex (or absent, default or exact), got "ban"');
  });
});
