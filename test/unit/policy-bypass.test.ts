/**
 * Bypass checks: one named reason per check, the first that applies wins, and the
 * detail names what triggered it (a header, cookie or parameter name), never a value.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bypassVerdict, CACHEABLE_METHODS } from "../../src/policy/bypass";
import { parseRules } from "../../src/rules/parse";
import type { CompiledRoute, RouteSettings } from "../../src/rules/types";

function route(settings: RouteSettings = {}): CompiledRoute {
  const result = parseRules({ version: 1, routes: [{ name: "r", match: { path: "/*" }, ...settings }] });
  const compiled = result.rules?.routes[0];
  if (!compiled) throw new Error(`test route invalid: ${JSON.stringify(result.problems)}`);
  return compiled;
}

const verdict = (r: CompiledRoute, path: string, headers: Record<string, string> = {}, method = "GET") =>
  bypassVerdict(r, method, new URL(`https://x.test${path}`), new Headers(headers));

const PLAIN = route();
const LISTS = route({
  bypass: {
    cookies: ["session*", "PHPSESSID"],
    headers: ["X-Preview", "authorization"],
    query: ["preview", "nocache_*"],
    methods: ["HEAD"],
  },
});

describe("bypassVerdict, one reason at a time", () => {
  it.each<[string, CompiledRoute, string, Record<string, string>, string, object | null]>([
    ["a plain GET uses the cache", PLAIN, "/a?b=1", {}, "GET", null],
    ["a plain HEAD uses the cache (RFC 9110 §9.3.2: answered from the GET)", PLAIN, "/a", {}, "HEAD", null],
    ["route: the route says bypass", route({ bypass: true }), "/a", {}, "GET", { reason: "route" }],
    ["method: POST is not cacheable here (RFC 9110 §9.2.3)", PLAIN, "/a", {}, "POST", { reason: "method", detail: "POST" }],
    ["method: PUT", PLAIN, "/a", {}, "PUT", { reason: "method", detail: "PUT" }],
    ["method: DELETE", PLAIN, "/a", {}, "DELETE", { reason: "method", detail: "DELETE" }],
    ["method: OPTIONS", PLAIN, "/a", {}, "OPTIONS", { reason: "method", detail: "OPTIONS" }],
    ["method: a route may bypass HEAD too", LISTS, "/a", {}, "HEAD", { reason: "method", detail: "HEAD" }],
    ["body: a GET with a body", PLAIN, "/a", { "content-length": "12" }, "GET", { reason: "body" }],
    ["body: a chunked GET", PLAIN, "/a", { "transfer-encoding": "chunked" }, "GET", { reason: "body" }],
    ["body: Content-Length 0 is no body", PLAIN, "/a", { "content-length": "0" }, "GET", null],
    ["path: an encoded slash", PLAIN, "/a%2Fb", {}, "GET", { reason: "path" }],
    ["path: an encoded slash, lower-case", PLAIN, "/a%2fb", {}, "GET", { reason: "path" }],
    ["path: a double-encoded slash", PLAIN, "/a%252Fb", {}, "GET", { reason: "path" }],
    ["path: an encoded backslash", PLAIN, "/a%5Cb", {}, "GET", { reason: "path" }],
    ["path: an encoded dot", PLAIN, "/static/..%2e/x", {}, "GET", { reason: "path" }],
    ["path: an encoded NUL", PLAIN, "/a%00.css", {}, "GET", { reason: "path" }],
    ["path: an encoded '?'", PLAIN, "/a%3Fb=1", {}, "GET", { reason: "path" }],
    ["path: an encoded '#'", PLAIN, "/a%23b", {}, "GET", { reason: "path" }],
    ["path: an encoded ';'", PLAIN, "/a%3Bjsessionid=1", {}, "GET", { reason: "path" }],
    ["path: an encoded line feed", PLAIN, "/a%0Ab", {}, "GET", { reason: "path" }],
    ["path: ordinary escapes are fine", PLAIN, "/caf%C3%A9/%20x", {}, "GET", null],
    ["path: an encoded slash in the query is not the path's business", PLAIN, "/a?next=%2Fb", {}, "GET", null],
    ["upgrade: a WebSocket handshake", PLAIN, "/ws", { upgrade: "websocket", connection: "upgrade" }, "GET", { reason: "upgrade" }],
    ["header: a listed header, named as the rule lower-cases it", LISTS, "/a", { "x-preview": "1" }, "GET", { reason: "header", detail: "x-preview" }],
    ["header: header names are case-insensitive", LISTS, "/a", { "X-PREVIEW": "" }, "GET", { reason: "header", detail: "x-preview" }],
    ["§3.5 authorization: bypassed even when no rule lists it", PLAIN, "/a", { authorization: "Bearer t" }, "GET", { reason: "authorization" }],
    ["§3.5 authorization: a route may opt in", route({ cacheAuthorized: true }), "/a", { authorization: "Bearer t" }, "GET", null],
    ["cookie: a cookie matching a glob", LISTS, "/a", { cookie: "theme=dark; session_id=s3cr3t" }, "GET", { reason: "cookie", detail: "session_id" }],
    ["cookie: an exact name", LISTS, "/a", { cookie: "PHPSESSID=abc" }, "GET", { reason: "cookie", detail: "PHPSESSID" }],
    ["cookie: names are case-sensitive (RFC 6265 §5.4)", LISTS, "/a", { cookie: "phpsessid=abc; SESSION=1" }, "GET", null],
    ["cookie: only names count, not values", LISTS, "/a", { cookie: "theme=session123" }, "GET", null],
    ["cookie: no listed cookie, other cookies are fine", LISTS, "/a", { cookie: "theme=dark" }, "GET", null],
    ["query: a listed parameter", LISTS, "/a?x=1&preview=true", {}, "GET", { reason: "query", detail: "preview" }],
    ["query: a parameter matching a glob, without a value", LISTS, "/a?nocache_1", {}, "GET", { reason: "query", detail: "nocache_1" }],
    ["query: the name is matched decoded", LISTS, "/a?pre%76iew=1", {}, "GET", { reason: "query", detail: "preview" }],
    ["query: a value never counts", LISTS, "/a?q=preview", {}, "GET", null],
  ])("%s", (_name, r, path, headers, method, expected) => {
    expect(verdict(r, path, headers, method)).toEqual(expected);
  });
});

describe("bypassVerdict order: the first reason wins", () => {
  const everything = { "content-length": "3", upgrade: "websocket", "x-preview": "1", authorization: "Basic x", cookie: "session=1" };

  it.each<[string, CompiledRoute, string, Record<string, string>, string, string]>([
    ["route before method", route({ bypass: true }), "/a%2Fb", everything, "POST", "route"],
    ["method before body", LISTS, "/a%2Fb", everything, "POST", "method"],
    ["body before path", LISTS, "/a%2Fb?preview", everything, "GET", "body"],
    ["path before upgrade", LISTS, "/a%2Fb?preview", { ...everything, "content-length": "0" }, "GET", "path"],
    ["upgrade before a listed header", LISTS, "/a?preview", { ...everything, "content-length": "0" }, "GET", "upgrade"],
    ["a listed header before authorization", LISTS, "/a?preview", { "x-preview": "1", authorization: "x", cookie: "session=1" }, "GET", "header"],
    ["authorization before cookie", route({ bypass: { cookies: ["session*"] } }), "/a", { authorization: "x", cookie: "session=1" }, "GET", "authorization"],
    ["cookie before query", LISTS, "/a?preview", { cookie: "session=1" }, "GET", "cookie"],
  ])("%s", (_name, r, path, headers, method, reason) => {
    expect(verdict(r, path, headers, method)?.reason).toBe(reason);
  });

  it("a route listing authorization among its headers reports it as a listed header", () => {
    expect(verdict(LISTS, "/a", { authorization: "Bearer t" })).toEqual({ reason: "header", detail: "authorization" });
  });
});

describe("bypassVerdict properties", () => {
  it("never puts a cookie's or a parameter's value in the verdict", () => {
    const value = fc.stringMatching(/^[A-Za-z0-9]{8,16}$/).map((v) => `VALUE${v}`);
    fc.assert(
      fc.property(value, fc.constantFrom("session", "session_x", "PHPSESSID"), (secret, name) => {
        const viaCookie = verdict(LISTS, "/a", { cookie: `a=${secret}; ${name}=${secret}` });
        const viaQuery = verdict(LISTS, `/a?q=${secret}&preview=${secret}`);
        expect(viaCookie).toEqual({ reason: "cookie", detail: name });
        expect(viaQuery).toEqual({ reason: "query", detail: "preview" });
        expect(JSON.stringify([viaCookie, viaQuery])).not.toContain(secret);
      }),
    );
  });

  it("only GET and HEAD are looked up", () => {
    expect([...CACHEABLE_METHODS].sort()).toEqual(["GET", "HEAD"]);
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z]{1,10}$/), (method) => {
        const v = verdict(PLAIN, "/a", {}, method);
        expect(v === null).toBe(method === "GET" || method === "HEAD");
      }),
    );
  });
});
