import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { origin } from "../support/origin";

// Cloudflare's purge API, stood in for by the scripted origin: it records every call.
function zone() {
  const id = `zone${crypto.randomUUID().slice(0, 8)}`;
  return { id, path: `/cfapi/zones/${id}/purge_cache` };
}

const OK = { status: 200, headers: { "content-type": "application/json" }, body: '{"success":true,"errors":[],"messages":[],"result":{"id":"x"}}' };

function withZone(z: { id: string }) {
  return adminHarness({ env: { CF_API_TOKEN: "cf-secret", CF_ZONE_ID: z.id, CF_API_BASE: `${origin.url}/cfapi` } });
}

/** The Cache API as the Worker uses it, recording the headers of every put. */
function recordingPuts() {
  const puts: Headers[] = [];
  const recording = (cache: Cache) =>
    new Proxy(cache, {
      get(target, name) {
        if (name === "put") return async (req: RequestInfo, res: Response) => (puts.push(new Headers(res.headers)), target.put(req, res));
        const value = Reflect.get(target, name) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return { puts, recording };
}

describe("purges also clear Cloudflare's zone cache when configured", () => {
  it("each kind becomes the matching API call, with the Bearer token", async () => {
    const z = zone();
    await origin.script(z.path, OK);
    const h = withZone(z);
    await h.purge({ urls: ["https://site.test/a", "/b?x=1"] });
    await h.purge({ prefixes: ["https://site.test/blog/"] });
    await h.purge({ tags: ["t1", "t2"] });
    await h.purge({ everything: true });
    const calls = await origin.requests(z.path);
    expect(calls.map((c) => ({ method: c.method, auth: c.headers.authorization, type: c.headers["content-type"], body: JSON.parse(c.body) }))).toEqual([
      { method: "POST", auth: "Bearer cf-secret", type: "application/json", body: { files: ["https://site.test/a", "https://site.test/b?x=1"] } },
      { method: "POST", auth: "Bearer cf-secret", type: "application/json", body: { prefixes: ["site.test/blog/"] } },
      { method: "POST", auth: "Bearer cf-secret", type: "application/json", body: { tags: ["t1", "t2"] } },
      { method: "POST", auth: "Bearer cf-secret", type: "application/json", body: { purge_everything: true } },
    ]);
    expect(JSON.stringify(h.logs)).not.toContain("cf-secret");
  });

  it("what we put into the Cache API carries the entry's tags as Cache-Tag, so the zone's tag purge reaches that tier", async () => {
    const z = zone();
    await origin.script(z.path, OK);
    const { puts, recording } = recordingPuts();
    const h = adminHarness({
      routes: [{ name: "tagged", match: { path: "/*" }, ttl: { edge: 600 }, tags: ["section"] }],
      env: { CF_API_TOKEN: "cf-secret", CF_ZONE_ID: z.id, CF_API_BASE: `${origin.url}/cfapi` },
      wrapCache: recording,
    });
    const path = origin.path();
    // A tag with a comma cannot be named in Cache-Tag (Cloudflare splits there): left out of it.
    await origin.script(path, { body: "tagged", headers: { "cache-control": "max-age=600", "x-cache-tag": "product-1, product-2", "surrogate-key": "a,b" } });
    expect((await h.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
    expect(puts.map((p) => p.get("cache-tag"))).toEqual(["section,product-1,product-2"]);

    expect((await h.purge({ tags: ["product-2"] })).json).toMatchObject({ cloudflare: { called: true, ok: true, calls: 1 } });
    const calls = await origin.requests(z.path);
    expect(calls.map((c) => JSON.parse(c.body))).toEqual([{ tags: ["product-2"] }]);
    expect((await h.get(path)).cacheStatus).toMatch(/fwd=uri-miss/);
  });

  it("an entry without tags is put without Cache-Tag", async () => {
    const { puts, recording } = recordingPuts();
    const h = adminHarness({ routes: [{ name: "plain", match: { path: "/*" }, ttl: { edge: 600 } }], wrapCache: recording });
    const path = origin.path();
    await origin.script(path, { body: "plain", headers: { "cache-control": "max-age=600" } });
    expect((await h.get(path)).cacheStatus).toMatch(/stored/);
    expect(puts.length).toBe(1);
    expect(puts[0]!.has("cache-tag")).toBe(false);
  });

  it("reports success in the answer", async () => {
    const z = zone();
    await origin.script(z.path, OK);
    const res = await withZone(z).purge({ tags: ["t"] });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ cloudflare: { called: true, ok: true, calls: 1 }, warnings: [] });
  });

  it("more than 30 URLs go in batches of 30", async () => {
    const z = zone();
    await origin.script(z.path, OK);
    const urls = Array.from({ length: 65 }, (_, i) => `https://site.test/u${i}`);
    const res = await withZone(z).purge({ urls });
    expect(res.json).toMatchObject({ cloudflare: { called: true, ok: true, calls: 3 } });
    const calls = await origin.requests(z.path);
    expect(calls.map((c) => (JSON.parse(c.body) as { files: string[] }).files.length)).toEqual([30, 30, 5]);
  });

  it("a refusal is reported, never fatal: our purge stands", async () => {
    const z = zone();
    await origin.script(z.path, {
      status: 403,
      headers: { "content-type": "application/json" },
      body: '{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}',
    });
    const res = await withZone(z).purge({ tags: ["t"] });
    expect(res.status).toBe(200);
    const error = "Cloudflare's API answered 403: 10000 Authentication error (check that CF_API_TOKEN has the Zone > Cache Purge permission for CF_ZONE_ID)";
    expect(res.json).toMatchObject({ purged: { kind: "tags", values: ["t"] }, cloudflare: { called: true, ok: false, calls: 1, error }, warnings: [`the zone cache was not purged: ${error}`] });
  });

  it("an unreachable API is reported, never fatal", async () => {
    const h = adminHarness({ env: { CF_API_TOKEN: "t", CF_ZONE_ID: "z", CF_API_BASE: "http://127.0.0.1:9" } });
    const res = await h.purge({ tags: ["t"] });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ cloudflare: { called: true, ok: false, calls: 1, error: expect.stringMatching(/^Cloudflare's API could not be reached: /) } });
  });

  it("not configured, or a route purge: no call, and the answer says why", async () => {
    const z = zone();
    await origin.script(z.path, OK);
    expect((await adminHarness().purge({ tags: ["t"] })).json).toMatchObject({ cloudflare: { called: false, reason: "CF_API_TOKEN and CF_ZONE_ID are not both set" } });
    expect((await withZone(z).purge({ routes: ["all"] })).json).toMatchObject({ cloudflare: { called: false, reason: "route purges have no equivalent in Cloudflare's cache" } });
    expect(await origin.count(z.path)).toBe(0);
  });
});
