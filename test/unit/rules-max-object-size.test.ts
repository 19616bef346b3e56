/** `maxObjectSize`: the validator's messages, the defaults, and how a route's value merges over the defaults'. */
import { describe, expect, it } from "vitest";
import { parseRules } from "../../src/rules/parse";

const file = (route: Record<string, unknown>, defaults?: Record<string, unknown>) => ({
  version: 1,
  ...(defaults ? { defaults } : {}),
  routes: [{ name: "r", match: {}, ...route }],
});

describe("maxObjectSize", () => {
  it("is unset by default (no limit of ours), and a route's value wins over the defaults'", () => {
    expect(parseRules(file({})).rules?.routes[0]?.maxObjectSize).toEqual({ edge: null });
    expect(parseRules(file({}, { maxObjectSize: { edge: 1000 } })).rules?.routes[0]?.maxObjectSize).toEqual({ edge: 1000 });
    expect(parseRules(file({ maxObjectSize: { edge: 5 } }, { maxObjectSize: { edge: 1000 } })).rules?.routes[0]?.maxObjectSize).toEqual({ edge: 5 });
  });

  it.each([
    [{ edge: 0 }, "$.routes[0].maxObjectSize.edge", "must be at least 1 byte, got 0", 'to keep a route out of the edge tier, set "ttl": { "edge": 0 }'],
    [{ edge: 1.5 }, "$.routes[0].maxObjectSize.edge", "must be a whole number of bytes, got 1.5", "write bytes as a plain number, e.g. 52428800 for 50 MiB"],
    [{ edge: "50MB" }, "$.routes[0].maxObjectSize.edge", 'expected a whole number of bytes, got the string "50MB"', "write bytes as a plain number, e.g. 52428800 for 50 MiB"],
    [{ kv: 10 }, "$.routes[0].maxObjectSize.kv", 'unknown field "kv"', "allowed fields here: edge"],
    [1000, "$.routes[0].maxObjectSize", "expected the size limits per tier (an object), got number", 'write { "edge": 52428800 } (bytes)'],
  ])("refuses %j with a message at its path", (value, path, message, hint) => {
    const { rules, problems } = parseRules(file({ maxObjectSize: value }));
    expect(rules).toBeNull();
    expect(problems).toEqual([{ severity: "error", path, message, hint }]);
  });

  it("has no effect on a route that always bypasses, and says so", () => {
    const { problems } = parseRules(file({ bypass: true, maxObjectSize: { edge: 10 } }));
    expect(problems).toEqual([expect.objectContaining({ severity: "warning", path: "$.routes[0].maxObjectSize" })]);
  });
});
