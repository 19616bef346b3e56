import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import bundled from "../../config/routes.json";
import { RULES_KV_KEY } from "../../src/rules/active";
import { adminHarness } from "../support/admin-harness";
import { TestClock } from "../support/harness";
import { origin } from "../support/origin";

const BUNDLED_ROUTES = bundled.routes.map((r) => r.name);

/** A rules file for the scripted origin whose one route caches `/h<id>/*` for 600 s. */
function rulesFor(id: string, extra: Record<string, unknown> = {}) {
  return { version: 1, origin: origin.url, routes: [{ name: `hot-${id}`, match: { path: `/h${id}/*` }, ttl: { edge: 600 }, ...extra }] };
}

/** Two isolates sharing KV and a clock: `a` takes the upload, `b` must pick it up. */
function twoIsolates(options: { env?: Record<string, string> } = {}) {
  const clock = new TestClock();
  return { clock, a: adminHarness({ fixedRules: false, clock, env: options.env }), b: adminHarness({ fixedRules: false, clock, env: options.env }) };
}

beforeEach(async () => {
  await env.CACHE_KV.delete(RULES_KV_KEY);
});

describe("rules hot reload through the admin API", () => {
  it("GET shows the bundled rules when nothing was uploaded", async () => {
    const h = adminHarness({ fixedRules: false });
    const res = await h.admin("GET", "rules");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      source: "bundled",
      version: expect.stringMatching(/^[0-9a-f]{16}$/),
      uploadedAt: null,
      routes: BUNDLED_ROUTES,
      refused: null,
      refreshSeconds: 10,
      rules: bundled,
    });
  });

  it("PUT stores valid rules: this isolate serves them at once, another within 10 s", async () => {
    const { clock, a, b } = twoIsolates();
    const id = crypto.randomUUID().slice(0, 8);
    const path = `/h${id}/page`;
    await origin.script(path, { body: "v{n}" });
    // b reads (and trusts) the bundled rules before the upload.
    expect((await b.admin("GET", "rules")).json).toMatchObject({ source: "bundled" });

    const text = JSON.stringify(rulesFor(id), null, 2);
    const put = await a.admin("PUT", "rules", text);
    expect(put.status).toBe(200);
    const version = put.json?.version;
    expect(put.json).toEqual({
      stored: true,
      version: expect.stringMatching(/^[0-9a-f]{16}$/),
      uploadedAt: new Date(clock.now()).toISOString(),
      active: { source: "kv", version, uploadedAt: new Date(clock.now()).toISOString(), routes: [`hot-${id}`], refused: null },
      warnings: [],
      notes: [],
      propagation:
        "serving at once in the isolate that took it; other isolates re-read the KV copy within 10 s, and other locations see it when KV has propagated the write (typically within 60 s, not guaranteed)",
    });
    expect(a.adminLogs().at(-1)).toMatchObject({ action: "rules", method: "PUT", targets: { version }, result: "ok", status: 200 });

    expect((await a.get(path)).cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=600");
    expect((await a.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);

    clock.advance(9);
    expect((await b.admin("GET", "rules")).json).toMatchObject({ source: "bundled" });
    clock.advance(1);
    expect((await b.admin("GET", "rules")).json).toMatchObject({ source: "kv", version, routes: [`hot-${id}`], rules: rulesFor(id) });
    expect((await b.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
    expect(await origin.count(path)).toBe(1);
  });

  it("an invalid upload is refused with every problem, and nothing changes", async () => {
    const { a } = twoIsolates();
    const id = crypto.randomUUID().slice(0, 8);
    const good = await a.admin("PUT", "rules", JSON.stringify(rulesFor(id)));
    const bad = { version: 1, routes: [{ name: "x", match: { path: "/*" }, ttl: { kv: 30 }, bogus: 1 }, { name: "x", match: { path: "/a" } }] };
    const res = await a.admin("PUT", "rules", JSON.stringify(bad));
    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      error: "invalid-rules",
      message: expect.stringMatching(/^The rules were refused \(\d+ errors\); nothing changed and the current rules keep serving\. Fix every problem below \(run `edge-cache rules check FILE` to see them locally\)\.$/),
      problems: expect.arrayContaining([
        expect.objectContaining({ severity: "error", path: "$.routes[0].bogus" }),
        expect.objectContaining({ severity: "error", path: "$.routes[0].ttl.kv" }),
        expect.objectContaining({ severity: "error", path: "$.routes[1].name" }),
      ]),
    });
    expect((res.json?.problems as unknown[]).length).toBeGreaterThanOrEqual(3);
    expect((await a.admin("GET", "rules")).json).toMatchObject({ source: "kv", version: good.json?.version });
    expect(a.adminLogs().at(-2)).toMatchObject({ action: "rules", method: "PUT", result: "invalid", status: 422 });
  });

  it("a syntax error is refused with its line and column", async () => {
    const h = adminHarness({ fixedRules: false });
    const res = await h.admin("PUT", "rules", '{\n  "version": 1,\n  "routes": [,]\n}');
    expect(res.status).toBe(422);
    expect(res.json?.problems).toEqual([
      expect.objectContaining({ severity: "error", path: "$", message: expect.stringMatching(/^not valid JSON at line 3, column 14: /) }),
    ]);
  });

  it("the upload's answer carries the risky-but-valid warnings", async () => {
    const h = adminHarness({ fixedRules: false });
    const id = crypto.randomUUID().slice(0, 8);
    const res = await h.admin("PUT", "rules", JSON.stringify(rulesFor(id, { stripSetCookie: true })));
    expect(res.status).toBe(200);
    expect(res.json?.warnings).toEqual([expect.objectContaining({ severity: "warning", path: "$.routes[0].stripSetCookie" })]);
  });

  it("a broken KV copy never takes the site down: the last good rules keep serving, and GET says why", async () => {
    const { clock, a } = twoIsolates();
    const id = crypto.randomUUID().slice(0, 8);
    const path = `/h${id}/page`;
    await origin.script(path, { body: "v{n}" });
    const good = await a.admin("PUT", "rules", JSON.stringify(rulesFor(id)));
    expect((await a.get(path)).cacheStatus).toMatch(/stored/);

    for (const broken of ["{not json", JSON.stringify({ v: 1, version: "x", uploadedAt: 1, text: '{"version": 2, "routes": []}' }), JSON.stringify({ v: 99 })]) {
      await env.CACHE_KV.put(RULES_KV_KEY, broken);
      clock.advance(10);
      const res = await a.admin("GET", "rules");
      expect(res.json).toMatchObject({ source: "kv", version: good.json?.version, routes: [`hot-${id}`] });
      expect(res.json?.refused).toEqual({ source: "kv", problems: expect.arrayContaining([expect.objectContaining({ severity: "error" })]) });
      expect((await a.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
    }

    // An isolate that never saw a good copy serves the bundled rules.
    const fresh = adminHarness({ fixedRules: false, clock });
    expect((await fresh.admin("GET", "rules")).json).toMatchObject({ source: "bundled", routes: BUNDLED_ROUTES, refused: { source: "kv" } });
  });

  it("DELETE drops the KV copy: the bundled rules serve again", async () => {
    const h = adminHarness({ fixedRules: false });
    await h.admin("PUT", "rules", JSON.stringify(rulesFor(crypto.randomUUID().slice(0, 8))));
    const res = await h.admin("DELETE", "rules");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ removed: true, active: { source: "bundled", routes: BUNDLED_ROUTES } });
    expect(await env.CACHE_KV.get(RULES_KV_KEY)).toBeNull();
  });

  it("locally, the rules file given to npm start (RULES_JSON) wins over KV", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const local = JSON.stringify(rulesFor(`local${id}`));
    const h = adminHarness({ fixedRules: false, env: { RULES_JSON: local } });
    const put = await h.admin("PUT", "rules", JSON.stringify(rulesFor(id)));
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      stored: true,
      active: { source: "RULES_JSON", routes: [`hot-local${id}`] },
      notes: ["RULES_JSON is set (a local run given --rules): the file given to npm start keeps serving; the upload is stored in KV for runs without it"],
    });
    expect((await h.admin("GET", "rules")).json).toMatchObject({ source: "RULES_JSON", rules: JSON.parse(local) });
  });
});
