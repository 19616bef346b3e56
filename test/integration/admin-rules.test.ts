import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import bundled from "../../config/routes.json";
import { RULES_KV_KEY } from "../../src/rules/active";
import { aroundCoordinator } from "../support/locations";
import { adminHarness } from "../support/admin-harness";
import { TestClock } from "../support/harness";
import { origin } from "../support/origin";

const BUNDLED_ROUTES = bundled.routes.map((r) => r.name);

/** A rules file for the scripted origin whose one route caches `/h<id>/*` for 600 s. */
function rulesFor(id: string, extra: Record<string, unknown> = {}) {
  return { version: 1, origin: origin.url, routes: [{ name: `hot-${id}`, match: { path: `/h${id}/*` }, ttl: { edge: 600 }, ...extra }] };
}

/** A site of its own (its own coordinator), so no test sees another's uploads. */
const newSite = () => `rules-${crypto.randomUUID().slice(0, 8)}`;

/** Two isolates of one site sharing KV, the coordinator and a clock: `a` takes the upload, `b` must pick it up. */
function twoIsolates(options: { env?: Record<string, string> } = {}) {
  const clock = new TestClock();
  const env = { SITE_NAME: newSite(), ...options.env };
  return { clock, env, a: adminHarness({ fixedRules: false, clock, env }), b: adminHarness({ fixedRules: false, clock, env }) };
}

beforeEach(async () => {
  await env.CACHE_KV.delete(RULES_KV_KEY);
});

describe("rules hot reload through the admin API", () => {
  it("GET shows the bundled rules when nothing was uploaded, with the coordinator's view", async () => {
    const h = adminHarness({ fixedRules: false, env: { SITE_NAME: newSite() } });
    const res = await h.admin("GET", "rules");
    expect(res.status).toBe(200);
    const version = expect.stringMatching(/^[0-9a-f]{16}$/);
    const isolate = expect.stringMatching(/^[0-9a-f]{8}$/);
    expect(res.json).toEqual({
      source: "bundled",
      version,
      sequence: 0,
      uploadedAt: null,
      routes: BUNDLED_ROUTES,
      refused: null,
      isolate,
      refreshSeconds: 2,
      boundSeconds: 5,
      coordinator: { sequence: 0, version: null, recordedAt: null, seed: false },
      isolates: [{ isolate: res.json?.isolate, sequence: 0, version: res.json?.version, source: "bundled", seenAt: new Date(h.clock.now()).toISOString() }],
      rules: bundled,
    });
  });

  it("PUT has the coordinator record the rules: this isolate serves them at once, another within 5 s", async () => {
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
    // The coordinator's time, never earlier than the caller's.
    const at = put.json?.uploadedAt as string;
    expect(Date.parse(at)).toBeGreaterThanOrEqual(clock.now());
    expect(put.json).toEqual({
      stored: true,
      version: expect.stringMatching(/^[0-9a-f]{16}$/),
      sequence: 1,
      uploadedAt: at,
      active: { source: "coordinator", version, sequence: 1, uploadedAt: at, routes: [`hot-${id}`], refused: null },
      warnings: [],
      notes: [],
      propagation:
        "recorded by the coordinator; serving at once in the isolate that took it, and in every other isolate within 5 s (when the coordinator cannot be reached, isolates read its KV copy: within about 60 s)",
    });
    expect(a.adminLogs().at(-1)).toMatchObject({ action: "rules", method: "PUT", targets: { version, sequence: 1 }, result: "ok", status: 200 });

    expect((await a.get(path)).cacheStatus).toBe("edge-cache; fwd=uri-miss; stored; ttl=600");
    expect((await a.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);

    clock.advance(1);
    expect((await b.admin("GET", "rules")).json).toMatchObject({ source: "bundled" });
    clock.advance(4);
    expect((await b.admin("GET", "rules")).json).toMatchObject({ source: "coordinator", version, sequence: 1, routes: [`hot-${id}`], rules: rulesFor(id), coordinator: { sequence: 1, version } });
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
    expect((await a.admin("GET", "rules")).json).toMatchObject({ source: "coordinator", version: good.json?.version, coordinator: { sequence: 1 } });
    expect(a.adminLogs().at(-2)).toMatchObject({ action: "rules", method: "PUT", result: "invalid", status: 422 });
  });

  it("a syntax error is refused with its line and column", async () => {
    const h = adminHarness({ fixedRules: false, env: { SITE_NAME: newSite() } });
    const res = await h.admin("PUT", "rules", '{\n  "version": 1,\n  "routes": [,]\n}');
    expect(res.status).toBe(422);
    expect(res.json?.problems).toEqual([
      expect.objectContaining({ severity: "error", path: "$", message: expect.stringMatching(/^not valid JSON at line 3, column 14: /) }),
    ]);
  });

  it("the upload's answer carries the risky-but-valid warnings", async () => {
    const h = adminHarness({ fixedRules: false, env: { SITE_NAME: newSite() } });
    const id = crypto.randomUUID().slice(0, 8);
    const res = await h.admin("PUT", "rules", JSON.stringify(rulesFor(id, { stripSetCookie: true })));
    expect(res.status).toBe(200);
    expect(res.json?.warnings).toEqual([expect.objectContaining({ severity: "warning", path: "$.routes[0].stripSetCookie" })]);
  });

  it("a coordinator that cannot record the upload: 503, nothing changes", async () => {
    const down = aroundCoordinator(async () => {
      throw new Error("coordinator down");
    });
    const h = adminHarness({ fixedRules: false, env: { SITE_NAME: newSite() }, wrapCoordinator: down });
    const res = await h.admin("PUT", "rules", JSON.stringify(rulesFor(crypto.randomUUID().slice(0, 8))));
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error: "rules-not-stored" });
    expect((await h.admin("GET", "rules")).json).toMatchObject({ source: "bundled", coordinator: null, isolates: null });
    expect(h.logs.filter((l) => l.msg === "coordinator-unavailable").map((l) => l.part).sort()).toEqual(["rules-upload", "state"]);
  });

  it("DELETE records a removal: the bundled rules serve again, and the old KV copy is gone", async () => {
    const { a, b } = twoIsolates();
    await a.admin("PUT", "rules", JSON.stringify(rulesFor(crypto.randomUUID().slice(0, 8))));
    // What an older version kept: it must not come back when the coordinator cannot be reached.
    await env.CACHE_KV.put(RULES_KV_KEY, JSON.stringify({ v: 1, version: "0123456789abcdef", uploadedAt: 1, text: JSON.stringify(rulesFor("old")) }));
    const res = await a.admin("DELETE", "rules");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ removed: true, active: { source: "bundled", routes: BUNDLED_ROUTES, sequence: 2 } });
    expect(await env.CACHE_KV.get(RULES_KV_KEY)).toBeNull();
    expect((await b.admin("GET", "rules")).json).toMatchObject({ source: "bundled", sequence: 2, coordinator: { sequence: 2, version: "removed" } });
  });

  it("an upload an older version kept in KV (rules:v1) becomes the coordinator's first version", async () => {
    const text = JSON.stringify(rulesFor("legacy"));
    await env.CACHE_KV.put(RULES_KV_KEY, JSON.stringify({ v: 1, version: "0123456789abcdef", uploadedAt: 1_700_000_000_000, text }));
    const h = adminHarness({ fixedRules: false, env: { SITE_NAME: newSite() } });
    expect((await h.admin("GET", "rules")).json).toMatchObject({ source: "coordinator", version: "0123456789abcdef", sequence: 1, routes: ["hot-legacy"] });
  });

  it("locally, the rules file given to npm start (RULES_JSON) seeds the coordinator: an upload then takes effect", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const local = JSON.stringify(rulesFor(`local${id}`));
    const { clock, env: started, a, b } = twoIsolates({ env: { RULES_JSON: local, RULES_SEED: "start-1" } });
    expect((await a.admin("GET", "rules")).json).toMatchObject({ source: "RULES_JSON", sequence: 1, rules: JSON.parse(local), coordinator: { sequence: 1, seed: true } });
    const put = await a.admin("PUT", "rules", JSON.stringify(rulesFor(id)));
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ stored: true, sequence: 2, active: { source: "coordinator", routes: [`hot-${id}`] }, notes: [] });
    // Another isolate of the same start does not seed again: it serves the upload.
    expect((await b.admin("GET", "rules")).json).toMatchObject({ source: "coordinator", sequence: 2, routes: [`hot-${id}`] });
    // DELETE goes back to the file the deployment started with.
    expect((await b.admin("DELETE", "rules")).json).toMatchObject({ active: { source: "RULES_JSON", sequence: 3, routes: [`hot-local${id}`] } });
    // A new start (a new seed) begins from its own file, whatever an earlier run uploaded.
    await a.admin("PUT", "rules", JSON.stringify(rulesFor(id)));
    const restarted = adminHarness({ fixedRules: false, clock, env: { ...started, RULES_SEED: "start-2" } });
    expect((await restarted.admin("GET", "rules")).json).toMatchObject({ source: "RULES_JSON", sequence: 5, routes: [`hot-local${id}`] });
  });

  it("an upload may name the origin of the rules file npm start was given, also after an earlier upload", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const own = "http://own-origin.example";
    const { a } = twoIsolates({ env: { RULES_JSON: JSON.stringify({ ...rulesFor(`local${id}`), origin: own }), RULES_SEED: "start-1" } });
    for (const n of [1, 2]) {
      const put = await a.admin("PUT", "rules", JSON.stringify({ ...rulesFor(`${id}-${n}`), origin: own }));
      expect(put.status, `upload ${n}`).toBe(200);
    }
  });
});
