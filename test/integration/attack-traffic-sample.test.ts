/**
 * Issue 21, item 11: the traffic sample (`GET /.edge-cache/traffic`, and what
 * `try-rules` replays) keeps URLs as the statistics do: without the values of query
 * parameters the route's key drops, as SECURITY.md's statistics row says.
 */
import { describe, expect, it } from "vitest";
import { SITE } from "../support/harness";
import { locations } from "../support/locations";
import { origin } from "../support/origin";

type Json = Record<string, any>;

describe("the traffic sample drops what the key drops", () => {
  it("values of parameters a route ignores (or does not allow) are not kept; the ones it keys on are", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const routes = [
      { name: `allow-${id}`, match: { path: `/s${id}/search` }, ttl: { edge: 60 }, key: { query: { allow: ["q"] } } },
      { name: `pages-${id}`, match: { path: `/s${id}/*` }, ttl: { edge: 60 }, key: { query: { ignore: ["utm_*", "email"] } } },
    ];
    const { sites } = locations(1, { routes });
    const h = sites[0]!;
    const page = `/s${id}/page`;
    const search = `/s${id}/search`;
    await origin.script(page, { headers: { "cache-control": "max-age=60" }, body: "page" });
    await origin.script(search, { headers: { "cache-control": "max-age=60" }, body: "search" });
    expect((await h.get(`${page}?utm_source=newsletter-jane&id=7&email=jane%40example.com`)).status).toBe(200);
    expect((await h.get(`${search}?q=shoes&email=bob%40example.com&ref=bob-campaign`)).status).toBe(200);

    const got = await h.admin("GET", "traffic");
    expect(got.status).toBe(200);
    expect((got.json as Json).requests.map((r: Json) => r.url)).toEqual([
      `${SITE}${search}?q=shoes&email&ref`,
      `${SITE}${page}?utm_source&id=7&email`,
    ]);
    expect(got.text).not.toMatch(/jane|bob|newsletter/);
  });
});
