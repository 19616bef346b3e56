/**
 * The rules fields `originHealth`, `fallbackOrigin`, `buildHeader` and `kv.minHits`:
 * what the validator refuses (path, message), and how routes inherit them.
 */
import { describe, expect, it } from "vitest";
import { lintRules } from "../../src/rules/lint";
import { parseRules } from "../../src/rules/parse";

const file = (route: Record<string, unknown>, defaults: Record<string, unknown> = {}) => ({
  version: 1,
  defaults,
  routes: [{ name: "r", match: { path: "/*" }, ...route }],
});
const errors = (f: unknown) => parseRules(f).problems.filter((p) => p.severity === "error").map((p) => `${p.path}: ${p.message}`);
const route = (f: unknown) => parseRules(f).rules!.routes[0]!;

describe("owner settings", () => {
  it("accepts the documented forms", () => {
    for (const r of [
      { originHealth: { failures: 5, coolOff: 30 } },
      { originHealth: {} },
      { originHealth: false },
      { fallbackOrigin: "https://backup.example.com/base" },
      { buildHeader: "x-build-id" },
      { buildHeader: false },
      { kv: { minHits: 2 } },
    ]) {
      expect({ r, problems: parseRules(file(r)).problems }).toEqual({ r, problems: [] });
    }
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["originHealth is false or an object", { originHealth: true }, "$.routes[0].originHealth: expected false or the origin health settings (an object), got boolean"],
    ["failures is a whole number from 1", { originHealth: { failures: 0 } }, "$.routes[0].originHealth.failures: must be at least 1, got 0"],
    ["failures at most 1000", { originHealth: { failures: 5000 } }, "$.routes[0].originHealth.failures: at most 1000 failures, got 5000"],
    ["coolOff is positive", { originHealth: { coolOff: 0 } }, "$.routes[0].originHealth.coolOff: must be more than 0 seconds, got 0"],
    ["coolOff at most 300", { originHealth: { coolOff: 600 } }, "$.routes[0].originHealth.coolOff: at most 300 seconds, got 600"],
    ["unknown health field", { originHealth: { failure: 5 } }, '$.routes[0].originHealth.failure: unknown field "failure"'],
    ["fallbackOrigin is an absolute URL", { fallbackOrigin: "backup.example.com" }, '$.routes[0].fallbackOrigin: origin must be an absolute http(s) URL, got "backup.example.com"'],
    ["fallbackOrigin has no query", { fallbackOrigin: "https://b.example.com/?x=1" }, "$.routes[0].fallbackOrigin: origin must not have a query or fragment"],
    ["buildHeader is a header name", { buildHeader: "x build" }, '$.routes[0].buildHeader: "x build" is not a valid header name'],
    ["buildHeader is a string or false", { buildHeader: true }, "$.routes[0].buildHeader: expected a response header name (a string) or false, got boolean"],
    ["minHits is a whole number from 1", { kv: { minHits: 0 } }, "$.routes[0].kv.minHits: must be at least 1, got 0"],
    ["a KV TTL written as kv", { kv: 3600 }, "$.routes[0].kv: expected the KV settings (an object), got number"],
  ])("%s", (_name, r, message) => {
    expect(errors(file(r))).toEqual([message]);
  });

  it("a KV TTL written as kv is pointed to ttl.kv", () => {
    expect(parseRules(file({ kv: 3600 })).problems[0]?.hint).toBe('a KV TTL goes inside "ttl": { "kv": 3600 }');
  });

  it("fallbackOrigin belongs to routes, not defaults", () => {
    const problems = parseRules(file({}, { fallbackOrigin: "https://b.example.com" })).problems;
    expect(problems.map((p) => [p.path, p.hint])).toEqual([["$.defaults.fallbackOrigin", "a fallback origin is set per route, in the routes that should use it"]]);
  });

  it("defaults: health on (5, 30 s), no fallback, no build header, KV on the first request", () => {
    const r = route(file({}));
    expect([r.originHealth, r.fallbackOrigin, r.buildHeader, r.kv]).toEqual([{ failures: 5, coolOffMs: 30_000 }, null, null, { minHits: 1 }]);
  });

  it("routes inherit from defaults: health merges field by field, false turns it off either way", () => {
    expect(route(file({ originHealth: { coolOff: 5 } }, { originHealth: { failures: 2 } })).originHealth).toEqual({ failures: 2, coolOffMs: 5_000 });
    expect(route(file({}, { originHealth: false })).originHealth).toBeNull();
    expect(route(file({ originHealth: {} }, { originHealth: false })).originHealth).toEqual({ failures: 5, coolOffMs: 30_000 });
    expect(route(file({ originHealth: false }, { originHealth: { failures: 2 } })).originHealth).toBeNull();
    expect(route(file({}, { buildHeader: "X-Build-Id" })).buildHeader).toBe("x-build-id");
    expect(route(file({ buildHeader: false }, { buildHeader: "x-build-id" })).buildHeader).toBeNull();
    expect(route(file({}, { kv: { minHits: 3 } })).kv).toEqual({ minHits: 3 });
    expect(route(file({ fallbackOrigin: "https://b.example.com/base/" })).fallbackOrigin).toBe("https://b.example.com/base");
  });

  it("rules check warns about settings that cannot act: minHits without KV, a fallback with health off", () => {
    const lint = (f: unknown) => lintRules(parseRules(f).rules!).map((p) => `${p.path}: ${p.message}`);
    expect(lint(file({ kv: { minHits: 2 } }))).toEqual(['$.routes[0].kv: route "r" sets kv.minHits but stores nothing in KV (ttl.kv is 0): it has no effect']);
    expect(lint(file({ kv: { minHits: 2 }, ttl: { kv: 600 } }))).toEqual([]);
    expect(lint(file({ fallbackOrigin: "https://b.example.com" }, { originHealth: false }))).toEqual([
      '$.routes[0].fallbackOrigin: route "r" has a fallbackOrigin but originHealth is false: the origin is never taken for down, so the fallback is never asked',
    ]);
    expect(lint(file({ fallbackOrigin: "https://b.example.com" }))).toEqual([]);
  });
});
