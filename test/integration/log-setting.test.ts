/**
 * The `log` rule setting: which requests write their JSON log line.
 */
import { describe, expect, it } from "vitest";
import { parseRules } from "../../src/rules/parse";
import { harness } from "../support/harness";
import { origin } from "../support/origin";

const requestLines = (logs: Record<string, unknown>[]) => logs.filter((l) => l.msg === "request");

describe("log", () => {
  it('"all" (the default) writes one line per request', async () => {
    const h = harness({ defaults: { ttl: { edge: 60 } } });
    const p = origin.path();
    await origin.script(p, { body: "x" });
    await h.get(p);
    await h.get(p);
    expect(requestLines(h.logs)).toHaveLength(2);
  });

  it('"errors" writes only failures: a 5xx, or an origin 5xx behind a stale answer', async () => {
    const h = harness({ defaults: { ttl: { edge: 60 }, log: "errors" } });
    const ok = origin.path();
    const bad = origin.path();
    await origin.script(ok, { body: "x" });
    await origin.script(bad, { status: 503, body: "down" });
    await h.get(ok);
    await h.get(ok);
    expect(requestLines(h.logs)).toHaveLength(0);
    expect((await h.get(bad)).status).toBe(503);
    expect(requestLines(h.logs)).toMatchObject([{ status: 503, url: bad }]);
  });

  it("a rate of 0 writes failures only; a rate of 1 writes every line", async () => {
    const none = harness({ defaults: { ttl: { edge: 60 }, log: 0 } });
    const all = harness({ defaults: { ttl: { edge: 60 }, log: 1 } });
    const p = origin.path();
    await origin.script(p, { body: "x" });
    await none.get(p);
    await all.get(p);
    expect(requestLines(none.logs)).toHaveLength(0);
    expect(requestLines(all.logs)).toHaveLength(1);
  });

  it("refuses anything else, with the choices", () => {
    const problems = (log: unknown) => parseRules({ version: 1, routes: [{ name: "r", match: {}, log }] }).problems;
    expect(problems(2)).toMatchObject([{ path: "$.routes[0].log", message: "a sampling rate must be from 0 to 1, got 2" }]);
    expect(problems("some")).toMatchObject([{ path: "$.routes[0].log", message: 'must be one of "all", "errors", got "some"' }]);
    expect(problems(0.5)).toEqual([]);
  });
});
