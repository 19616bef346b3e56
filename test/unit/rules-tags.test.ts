/**
 * What a tag is (issue 21): 1 to 128 visible ASCII characters without a comma, as
 * Cloudflare's Cache-Tag takes them and as a header can carry them. The rules refuse
 * any other at its JSON path; an origin's X-Cache-Tag / Surrogate-Key values that are
 * not tags are dropped (and reported once per answer), never stored.
 */
import { describe, expect, it } from "vitest";
import { parseRules } from "../../src/rules/parse";
import { MAX_TAG_LENGTH, responseTags } from "../../src/policy/tags";

const file = (tags: unknown, defaults: unknown = undefined) => ({
  version: 1,
  ...(defaults === undefined ? {} : { defaults: { tags: defaults } }),
  routes: [{ name: "r", match: { path: "/*" }, ...(tags === undefined ? {} : { tags }) }],
});
const HINT = "tags are 1 to 128 visible ASCII characters, without spaces or commas (as Cloudflare's Cache-Tag takes them)";
const errors = (f: unknown) => parseRules(f).problems.filter((p) => p.severity === "error").map((p) => `${p.path}: ${p.message} (${p.hint})`);

describe("tags in the rules", () => {
  it("accepts visible ASCII tags up to 128 characters", () => {
    const ok = ["html", "product-42", "a:b/c_d.e", "!#$%&'*+^`|~", "x".repeat(MAX_TAG_LENGTH)];
    expect(parseRules(file(ok)).problems).toEqual([]);
    expect(parseRules(file(ok)).rules!.routes[0]!.tags).toEqual(ok);
  });

  it.each<[string, string, string]>([
    ["outside Latin-1", "tag-€", `$.routes[0].tags[1]: "tag-€" is not a valid tag: "€" is not visible ASCII (${HINT}; spell it in ASCII)`],
    ["Latin-1 but not ASCII", "naïve", `$.routes[0].tags[1]: "naïve" is not a valid tag: "ï" is not visible ASCII (${HINT}; spell it in ASCII)`],
    ["a control character", "a\u0001b", `$.routes[0].tags[1]: "a\\u0001b" is not a valid tag: "\\u0001" is not visible ASCII (${HINT}; spell it in ASCII)`],
    ["too long", "x".repeat(129), `$.routes[0].tags[1]: a tag is at most 128 characters, got 129 (${HINT}; shorten it)`],
    ["a space", "a b", '$.routes[0].tags[1]: "a b" is not a valid tag (tags are non-empty and hold no spaces or commas)'],
    ["empty", "", '$.routes[0].tags[1]: "" is not a valid tag (tags are non-empty and hold no spaces or commas)'],
  ])("refuses a tag %s, at its JSON path", (_name, tag, message) => {
    const f = file(["ok", tag]);
    expect(errors(f)).toEqual([message]);
    expect(parseRules(f).rules).toBeNull();
  });

  it("refuses them in defaults too", () => {
    expect(errors(file(undefined, ["ünï"]))[0]).toMatch(/^\$\.defaults\.tags\[0\]: "ünï" is not a valid tag: "ü" is not visible ASCII/);
  });
});

describe("tags an origin sends", () => {
  it("keeps the valid ones and reports the others once, listed", () => {
    const reports: string[][] = [];
    const headers = new Headers({ "x-cache-tag": `ok, caf\u00e9, ${"y".repeat(129)},  , b`, "surrogate-key": "c d,e ok" });
    expect(responseTags(headers, (dropped) => reports.push(dropped))).toEqual(["ok", "b", "c"]);
    expect(reports).toEqual([["café", `${"y".repeat(64)}…`, "d,e"]]);
  });

  it("reports nothing when every tag is valid, and a caller may not ask", () => {
    const reports: string[][] = [];
    expect(responseTags(new Headers({ "x-cache-tag": "a,b" }), (d) => reports.push(d))).toEqual(["a", "b"]);
    expect(reports).toEqual([]);
    expect(responseTags(new Headers({ "x-cache-tag": "a,\u00e9" }))).toEqual(["a"]);
  });
});
