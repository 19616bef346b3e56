import { describe, expect, it } from "vitest";
import { decide, parseHeaderArgs } from "../../src/explain/decide";
import { bypassVerdict } from "../../src/policy/bypass";
import { buildCacheKey } from "../../src/policy/cache-key";
import { matchRoute } from "../../src/rules/match";
import { parseRules } from "../../src/rules/parse";
import type { CompiledRules } from "../../src/rules/types";

function compile(file: unknown): CompiledRules {
  const r = parseRules(file);
  if (!r.rules) throw new Error(JSON.stringify(r.problems));
  return r.rules;
}

const RULES = compile({
  version: 1,
  origin: "https://origin.example.com/base/",
  defaults: { key: { query: { allow: ["page", "q"] }, cookies: ["lang"] }, bypass: { query: ["preview"], headers: ["x-preview"] } },
  routes: [
    { name: "api", match: { path: "/api/*", host: "api.example.com" } },
    { name: "all", match: { path: "/*" }, ttl: { edge: 0, kv: 120 }, tags: ["t"] },
  ],
});

describe("decide: the proxy's decision as data", () => {
  it("a cached request: the whole decision", () => {
    const url = new URL("https://www.example.com/list?q=x&utm=1&page=2");
    expect(decide(RULES, url, "get", new Headers({ cookie: "lang=fr; other=1" }))).toEqual({
      request: { url: url.href, method: "GET", headerNames: ["cookie"] },
      route: { name: "all", index: 1 },
      tried: [
        { name: "api", matched: false, reason: "host www.example.com does not match api.example.com" },
        { name: "all", matched: true, reason: "matched" },
      ],
      outcome: "cache",
      bypass: null,
      key: {
        key: 'https://www.example.com/list?q=x&page=2\n[["c","lang","fr"]]',
        url: "https://www.example.com/list?q=x&page=2",
        parts: { scheme: "https", host: "www.example.com", path: "/list", query: ["q=x", "page=2"], dropped: ["utm"], headers: [], cookies: [["lang", "fr"]] },
      },
      originUrl: "https://origin.example.com/base/list?q=x&page=2",
      settings: {
        ttl: { edge: 0, kv: 120, browser: null },
        origin: "fallback",
        status: {},
        staleWhileRevalidate: 0,
        staleIfError: 0,
        heuristic: false,
        clientCacheControl: "ignore",
        stripSetCookie: false,
        cacheAuthorized: false,
        originTimeoutMs: 30000,
        maxVariants: 16,
        maxObjectSize: { edge: null },
        log: "all",
        tags: ["t"],
        shield: false,
        originHealth: { failures: 5, coolOffMs: 30000 },
        fallbackOrigin: null,
        buildHeader: null,
        kv: { minHits: 1 },
      },
      tiers: { edge: false, kv: true },
    });
  });

  it("agrees with the functions the proxy calls, for every case", () => {
    const cases: [string, string, Record<string, string>][] = [
      ["https://api.example.com/api/v1", "GET", {}],
      ["https://www.example.com/x?preview=1", "GET", {}],
      ["https://www.example.com/x", "POST", {}],
      ["https://www.example.com/x", "GET", { "x-preview": "1" }],
      ["https://www.example.com/x", "GET", { authorization: "Bearer a" }],
      ["https://www.example.com/x", "GET", { upgrade: "websocket" }],
    ];
    for (const [u, method, h] of cases) {
      const url = new URL(u);
      const headers = new Headers(h);
      const d = decide(RULES, url, method, headers);
      const { route, tried } = matchRoute(RULES, url, method);
      expect(d.tried).toEqual(tried);
      expect(d.route?.name).toBe(route?.name);
      const verdict = route && bypassVerdict(route, method, url, headers);
      expect(d.bypass).toEqual(verdict ? { reason: verdict.reason, detail: verdict.detail ?? null } : null);
      expect(d.key?.key ?? null).toBe(route && !verdict ? buildCacheKey(url, headers, route.key).key : null);
    }
  });

  it("a request no route takes goes to the origin as it came", () => {
    const rules = compile({ version: 1, routes: [{ name: "only", match: { path: "/only" } }] });
    const d = decide(rules, new URL("https://www.example.com/else?a=1"), "GET", new Headers());
    expect(d).toMatchObject({ route: null, outcome: "no-rule", key: null, settings: null, tiers: null, originUrl: "https://www.example.com/else?a=1" });
  });
});

describe("parseHeaderArgs", () => {
  it("reads Name: value and Name:value, repeated names appended", () => {
    const r = parseHeaderArgs(["Cookie: a=1", "accept:text/html", "Cookie:b=2", "X-Empty:"]);
    expect(r.ok && [...r.headers]).toEqual([["accept", "text/html"], ["cookie", "a=1, b=2"], ["x-empty", ""]]);
  });

  it.each([["NoColon"], [": value"], ["Bad Name: x"]])("refuses %j, saying how to write it", (item) => {
    expect(parseHeaderArgs([item])).toEqual({ ok: false, message: `not a header: ${JSON.stringify(item)}; write it as "Name: value", e.g. "Cookie: session=1"` });
  });
});
