/**
 * Which POST answers may stand for a GET of their URL (RFC 9110 §9.3.3), and which
 * POSTs may have theirs stored at all (policy/post-answer).
 */
import { describe, expect, it } from "vitest";
import { postAnswerReusable, storesPostAnswer } from "../../src/policy/post-answer";
import { compile } from "../support/harness";

const URL_ = new URL("https://site.test/form/p?x=1");
const NOW = Date.UTC(2026, 0, 1);
const reusable = (headers: Record<string, string>, status = 200) => postAnswerReusable(URL_, status, new Headers(headers), NOW);

describe("postAnswerReusable", () => {
  it.each<[string, Record<string, string>, number, boolean]>([
    ["max-age and a relative Content-Location of the URI", { "cache-control": "max-age=60", "content-location": "p?x=1" }, 200, true],
    ["s-maxage and an absolute Content-Location", { "cache-control": "s-maxage=60", "content-location": "https://site.test/form/p?x=1" }, 200, true],
    ["Expires in the future", { expires: new Date(NOW + 60_000).toUTCString(), date: new Date(NOW).toUTCString(), "content-location": "/form/p?x=1" }, 200, true],
    ["percent-encoding spelled otherwise (normalized as the request is)", { "cache-control": "max-age=60", "content-location": "/form/%70?x=1" }, 200, true],
    ["no Content-Location", { "cache-control": "max-age=60" }, 200, false],
    ["another query", { "cache-control": "max-age=60", "content-location": "p?x=2" }, 200, false],
    ["another host", { "cache-control": "max-age=60", "content-location": "https://other.test/form/p?x=1" }, 200, false],
    ["a Content-Location that is no URI reference", { "cache-control": "max-age=60", "content-location": "http://[" }, 200, false],
    ["no explicit freshness", { "content-location": "p?x=1", "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" }, 200, false],
    ["max-age=0", { "cache-control": "max-age=0", "content-location": "p?x=1" }, 200, false],
    ["an Expires in the past", { expires: "Thu, 01 Jan 1970 00:00:00 GMT", "content-location": "p?x=1" }, 200, false],
    ["a 201", { "cache-control": "max-age=60", "content-location": "p?x=1" }, 201, false],
  ])("%s: %s", (_name, headers, status, expected) => {
    expect(reusable(headers, status)).toBe(expected);
  });
});

describe("storesPostAnswer", () => {
  const rules = compile({
    version: 1,
    origin: "https://origin.test",
    routes: [
      { name: "private", match: { path: "/account/*" }, storePostAnswers: true, bypass: { cookies: ["session"] } },
      { name: "off", match: { path: "/off/*" } },
      { name: "all", match: { path: "/*" }, storePostAnswers: true },
    ],
  });
  const stores = (path: string, headers: Record<string, string> = {}) => {
    const url = new URL(`https://site.test${path}`);
    const route = rules.routes.find((r) => r.name === (path.startsWith("/account/") ? "private" : path.startsWith("/off/") ? "off" : "all"))!;
    return storesPostAnswer(rules, route, url, new Headers(headers), url.pathname);
  };

  it("on a route that opts in, with the POST's own body", () => {
    expect(stores("/form", { "content-length": "3", "content-type": "text/plain" })).toBe(true);
  });

  it("never where a GET would bypass or the route does not opt in", () => {
    expect(stores("/off/form")).toBe(false);
    expect(stores("/form", { authorization: "Basic YTpi" })).toBe(false);
    expect(stores("/account/x", { cookie: "session=1" })).toBe(false);
    expect(stores("/a%2Fb")).toBe(false);
  });
});
