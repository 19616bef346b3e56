/**
 * POST answers reused for GET (RFC 9110 §9.3.3, RFC 9111 §4) on a route with
 * `storePostAnswers`, through the Worker against the scripted origin: what is
 * stored, under which key, and what a POST still invalidates (RFC 9111 §4.4).
 */
import { describe, expect, it } from "vitest";
import type { RouteRule } from "../../src/rules/types";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

const HIT = /^edge-cache; hit;/;
const fresh = { "cache-control": "max-age=600", "content-location": "p" };
const all = (extra: Partial<RouteRule> = {}): RouteRule => ({ name: "all", match: { path: "/*" }, origin: "respect", storePostAnswers: true, ...extra });

describe("storePostAnswers", () => {
  it("the body reaches the origin and is never part of the key: a later POST with another body replaces the answer", async () => {
    const h = harness({ routes: [all()] });
    const path = origin.path();
    await origin.script(path, { headers: fresh, body: "state {n}" });
    const first = await h.request(path, { method: "POST", body: "a=1", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(first.cacheStatus).toBe("edge-cache; fwd=method; stored; ttl=600");
    expect((await h.get(path)).text).toBe("state 1");
    await h.request(path, { method: "POST", body: "a=2" });
    const after = await h.get(path);
    expect([after.text, after.cacheStatus]).toEqual(["state 2", expect.stringMatching(HIT)]);
    const seen = await origin.requests(path);
    expect(seen.map((r) => [r.method, r.body])).toEqual([["POST", "a=1"], ["POST", "a=2"]]);
  });

  it("an absolute Content-Location naming the request URI counts; one naming the URI on another host does not", async () => {
    const h = harness({ routes: [all()] });
    const path = origin.path();
    await origin.script(path, { headers: { ...fresh, "content-location": `https://site.test${path}` }, body: "v{n}" }, { headers: { ...fresh, "content-location": `https://other.test${path}` }, body: "v{n}" });
    expect((await h.request(path, { method: "POST" })).cacheStatus).toMatch(/stored/);
    expect((await h.request(path, { method: "POST" })).cacheStatus).toBe("edge-cache; fwd=method; detail=method");
    // The second POST was not stored, and cleared the first one's answer.
    expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; fwd=uri-miss/);
  });

  it("a POST a GET would bypass (Authorization) is passed, not stored, and still invalidates", async () => {
    const h = harness({ routes: [all()] });
    const path = origin.path();
    await origin.script(path, { headers: fresh, body: "v{n}" });
    await h.get(path);
    const post = await h.request(path, { method: "POST", headers: { authorization: "Basic YTpi" } });
    expect(post.cacheStatus).toBe("edge-cache; fwd=method; detail=method");
    const got = await h.get(path);
    expect([got.text, await origin.count(path)]).toEqual(["v3", 3]);
  });

  it("only the route a GET of the URI takes decides: a POST-only route that opts in stores nothing", async () => {
    const h = harness({ routes: [all({ name: "posts", match: { path: "/*", methods: ["POST"] } }), all({ name: "gets", storePostAnswers: false })] });
    const path = origin.path();
    await origin.script(path, { headers: fresh, body: "v{n}" });
    expect((await h.request(path, { method: "POST" })).cacheStatus).toBe("edge-cache; fwd=method; detail=method");
    expect((await h.get(path)).text).toBe("v2");
  });

  it("a stored POST answer with Vary is a variant of its own request's selecting headers; the old variants are gone", async () => {
    const h = harness({ routes: [all()] });
    const path = origin.path();
    await origin.script(path, { headers: { ...fresh, vary: "Accept-Language" }, body: "v{n}" });
    expect((await h.get(path, { headers: { "accept-language": "de" } })).text).toBe("v1");
    // A new index's epoch is its store time (ms): a later one.
    h.clock.advance(1);
    await h.request(path, { method: "POST", headers: { "accept-language": "en" } });
    const en = await h.get(path, { headers: { "accept-language": "en" } });
    expect([en.text, en.cacheStatus]).toEqual(["v2", expect.stringMatching(HIT)]);
    expect((await h.get(path, { headers: { "accept-language": "de" } })).text).toBe("v3");
  });

  it("a failed POST neither stores nor invalidates", async () => {
    const h = harness({ routes: [all()] });
    const path = origin.path();
    await origin.script(path, { headers: fresh, body: "v{n}" }, { status: 500, headers: fresh, body: "err" }, { headers: fresh, body: "v{n}" });
    await h.get(path);
    expect((await h.request(path, { method: "POST" })).status).toBe(500);
    const got = await h.get(path);
    expect([got.text, got.cacheStatus]).toEqual(["v1", expect.stringMatching(HIT)]);
  });
});
