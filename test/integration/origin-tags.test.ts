/**
 * Tags an origin sends (issue 21): values of X-Cache-Tag / Surrogate-Key that are not
 * tags (outside visible ASCII, too long) are dropped and logged once per answer; the
 * answer is still stored, with its valid tags, and purges by them.
 */
import { describe, expect, it } from "vitest";
import { adminHarness } from "../support/admin-harness";
import { origin } from "../support/origin";

/** "€" as the UTF-8 bytes an origin sends (the scripted origin writes each character as one byte). */
const EURO_BYTES = "\u00e2\u0082\u00ac";

describe("tags an origin sends", () => {
  it("an invalid tag is dropped and logged once; the entry keeps the valid ones and purges by them", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const h = adminHarness({ routes: [{ name: `t-${id}`, match: { path: `/t${id}/*` }, ttl: { edge: 600 }, tags: ["route-tag"] }] });
    const path = `/t${id}/page`;
    const headers = { "cache-control": "max-age=600", "x-cache-tag": `ok-${id}, price-${EURO_BYTES}, ${"y".repeat(200)}`, "surrogate-key": `home-${id}` };
    await origin.script(path, { headers }, { headers });
    expect((await h.get(path)).cacheStatus).toContain("stored");
    expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; hit/);
    expect(h.logs.filter((l) => l.msg === "tags-dropped")).toEqual([
      { msg: "tags-dropped", route: `t-${id}`, url: `https://site.test${path}`, tags: ["price-€", `${"y".repeat(64)}…`] },
    ]);
    const explained = await h.explain(`url=${encodeURIComponent(path)}`);
    expect((explained.json as { state: { edge: { tags: string[] } } }).state.edge.tags).toEqual(["route-tag", `ok-${id}`, `home-${id}`]);
    expect((await h.purge({ tags: [`ok-${id}`] })).status).toBe(200);
    expect((await h.get(path)).cacheStatus).toContain("fwd=uri-miss");
  });
});
