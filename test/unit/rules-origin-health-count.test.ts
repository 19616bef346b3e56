/** `originHealth.count` in the rules file: what the validator refuses (path, message), and how routes inherit it. */
import { describe, expect, it } from "vitest";
import { parseRules } from "../../src/rules/parse";

const file = (route: Record<string, unknown>, defaults: Record<string, unknown> = {}) => ({
  version: 1,
  defaults,
  routes: [{ name: "r", match: { path: "/*" }, ...route }],
});
const errors = (f: unknown) => parseRules(f).problems.filter((p) => p.severity === "error").map((p) => `${p.path}: ${p.message}`);
const health = (f: unknown) => parseRules(f).rules!.routes[0]!.originHealth;

describe("originHealth.count", () => {
  it("accepts the documented forms", () => {
    for (const count of [[], ["timeout"], ["5xx"], ["timeout", "5xx"]]) {
      expect({ count, problems: parseRules(file({ originHealth: { count } })).problems }).toEqual({ count, problems: [] });
    }
  });

  it.each<[string, unknown, string]>([
    ["a list", "timeout", "$.routes[0].originHealth.count: expected a list of strings, got string"],
    ["of known outcomes", ["timeout", "500"], '$.routes[0].originHealth.count[1]: "500" is not something origin health can count'],
    ["of strings", [5], "$.routes[0].originHealth.count[0]: expected a string, got number"],
  ])("is %s", (_name, count, message) => {
    expect(errors(file({ originHealth: { count } }))).toEqual([message]);
  });

  it("an unknown outcome's hint names the ones there are", () => {
    expect(parseRules(file({ originHealth: { count: ["timeouts"] } })).problems[0]?.hint).toMatch(/"timeout".*"5xx"/);
  });

  it("by default nothing beyond connection failures counts: the compiled setting has no count", () => {
    expect(health(file({}))).toEqual({ failures: 5, coolOffMs: 30_000 });
    expect(health(file({ originHealth: { count: [] } }))).not.toHaveProperty("count");
  });

  it("a route's list replaces the defaults'; the other fields still merge; duplicates collapse", () => {
    expect(health(file({}, { originHealth: { count: ["5xx"], failures: 2 } }))).toEqual({ failures: 2, coolOffMs: 30_000, count: ["5xx"] });
    expect(health(file({ originHealth: { count: ["timeout", "timeout"] } }, { originHealth: { count: ["5xx"] } }))).toEqual({ failures: 5, coolOffMs: 30_000, count: ["timeout"] });
    expect(health(file({ originHealth: { count: [] } }, { originHealth: { count: ["5xx"] } }))).toEqual({ failures: 5, coolOffMs: 30_000 });
  });
});
