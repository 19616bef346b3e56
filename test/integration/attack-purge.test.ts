/**
 * Issue 10, purges an operator relies on: prefix purges normalized as keys are
 * (item 10), and a purge that can match nothing says so.
 */
import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { SITE } from "../support/harness";
import { origin } from "../support/origin";

describe("prefix purges are normalized as keys are", () => {
  const h = adminHarness({ defaults: { ttl: { edge: 600 } } });

  it.each([
    ["an encoded UTF-8 segment", "caf%C3%A9", "caf%c3%a9"],
    ["an encoded unreserved character", "~u", "%7Eu"],
    ["the same, lower-case hex", "~u", "%7eu"],
  ])("%s: a prefix spelled %s purges what was stored under another spelling", async (_what, stored, spelled) => {
    const base = origin.prefix();
    const path = `${base}/${stored}/page`;
    await origin.script(path, { body: "v{n}" });
    expect((await h.get(path)).text).toBe("v1");
    expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; hit;/);
    const purge = await h.purge({ prefixes: [`${SITE}${base}/${spelled}/`] });
    expect(purge.status).toBe(200);
    expect(purge.json?.warnings).toEqual([]);
    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe("v2");
    expect(victim.cacheStatus).toMatch(/fwd=uri-miss/);
    expect(await origin.count(path)).toBe(2);
  });
});

describe("a purge that can match nothing says so", () => {
  const h = adminHarness({
    defaults: { ttl: { edge: 600 } },
    routes: [
      { name: "private", match: { path: "/private/*" }, bypass: true },
      { name: "all", match: { path: "/*" } },
    ],
  });

  it.each([
    ["a prefix with an encoded slash", { prefixes: [`${SITE}/a%2fb/`] }, "holds an encoded delimiter"],
    ["a URL with an encoded slash", { urls: [`${SITE}/a%2Fb`] }, "holds an encoded delimiter"],
    ["a URL on a bypass route", { urls: [`${SITE}/private/x`] }, "no route of the active rules stores"],
  ])("%s: 200 with a warning", async (_what, body, warning) => {
    const res = await h.purge(body);
    expect(res.status).toBe(200);
    expect(res.json?.warnings).toEqual([expect.stringContaining(warning)]);
  });

  it("the normalized prefix is what the answer shows", async () => {
    const res = await h.purge({ prefixes: [`${SITE.toUpperCase()}/%7eu/caf%c3%a9/`] });
    expect(res.json?.purged).toEqual({ kind: "prefixes", values: [`${SITE}/~u/caf%C3%A9/`], soft: false });
    expect(res.json?.warnings).toEqual([]);
  });
});

describe("explain tells what the next request does with a purged copy", () => {
  const h = adminHarness({ defaults: { ttl: { edge: 600 } } });

  it.each([
    [false, "purged", "hard"],
    [true, "stale", "soft"],
  ] as const)("soft %s: the copy shows as %s", async (soft, shown, purged) => {
    const path = origin.path();
    await origin.script(path, { body: "v{n}", headers: { etag: '"v"' } });
    await h.get(path);
    // A prefix purge is a record only: the copy stays in the tier, as in every other location.
    h.clock.advance(1);
    expect((await h.purge({ prefixes: [path], soft })).status).toBe(200);
    const explained = await h.explain(`url=${encodeURIComponent(path)}`);
    expect((explained.json?.state as { edge: unknown }).edge).toMatchObject({ present: true, freshness: shown, purged });
    const victim = await h.get(path);
    expect(victim.status).toBe(200);
    expect(victim.cacheStatus).toMatch(soft ? /fwd=stale/ : /fwd=uri-miss/);
  });
});
