import fc from "fast-check";
import { describe, expect, it } from "vitest";
import routesJson from "../../config/routes.json";
import { parseRules, parseRulesText } from "../../src/rules/parse";
import type { Problem, RouteRule, RouteSettings, RulesFile } from "../../src/rules/types";

const minimal = (route: Partial<RouteRule> = {}, defaults?: RouteSettings): unknown => ({
  version: 1,
  ...(defaults ? { defaults } : {}),
  routes: [{ name: "r", match: {}, ...route }],
});

/** A file with one catch-all route and `fields` at the top level (before routes). */
const top = (fields: Record<string, unknown>): unknown => ({ version: 1, ...fields, routes: [{ name: "r", match: {} }] });
const globs = (...g: string[]) => expect.objectContaining({ globs: g });
const error = (path: string, message: string, hint: string): Problem => ({ severity: "error", path, message, hint });
const warning = (path: string, message: string, hint: string): Problem => ({ severity: "warning", path, message, hint });

function compiledRoute(input: unknown, index = 0) {
  const result = parseRules(input);
  expect(result.problems).toEqual([]);
  const route = result.rules?.routes[index];
  if (!route) throw new Error("no compiled route");
  return route;
}

describe("parseRules on valid files", () => {
  it("accepts config/routes.json without a single problem", () => {
    const result = parseRules(routesJson);
    expect(result.problems).toEqual([]);
    expect(result.rules?.origin).toBeNull();
    expect(result.rules?.routes.map((r) => r.name)).toEqual(["admin", "login", "assets", "static", "api", "pages"]);
    expect(result.rules?.source).toEqual(routesJson);
  });

  it("fills every setting of a bare route from the built-in defaults", () => {
    expect(compiledRoute(minimal())).toEqual({
      name: "r",
      index: 0,
      match: { path: "/*", host: null, methods: null, testPath: expect.any(Function), testHost: null },
      ttl: { edge: 3600, kv: 0, browser: null },
      tiers: { edge: true, kv: false },
      status: {},
      origin: "fallback",
      staleWhileRevalidate: 0,
      staleIfError: 0,
      heuristic: false,
      clientCacheControl: "ignore",
      stripSetCookie: false,
      cacheAuthorized: false,
      storePostAnswers: false,
      originTimeoutMs: 30_000,
      maxVariants: 16,
      maxObjectSize: { edge: null },
      key: { query: { mode: "ignore", names: globs(), sort: false }, headers: [], cookies: [], device: false, country: null, language: null },
      bypass: { always: false, cookies: globs(), headers: [], query: globs(), methods: [] },
      tags: [],
      debug: false,
      log: "all",
      shield: false,
      originHealth: { failures: 5, coolOffMs: 30_000 },
      fallbackOrigin: null,
      buildHeader: null,
      kv: { minHits: 1 },
    });
  });

  it("compiles the routes of config/routes.json as an owner would expect", () => {
    const rules = parseRules(routesJson).rules!;
    const [admin, , assets, , api, pages] = rules.routes;
    expect(admin?.bypass.always).toBe(true);
    expect(assets).toMatchObject({
      ttl: { edge: 31536000, kv: 31536000, browser: 31536000 },
      staleWhileRevalidate: 60,
      match: { methods: ["GET", "HEAD"] },
      bypass: { always: false, headers: [], cookies: globs() },
      key: { query: { mode: "ignore", names: globs("utm_*", "fbclid", "gclid", "mc_eid", "_ga"), sort: true } },
    });
    expect(api).toMatchObject({ origin: "respect", ttl: { edge: 60, kv: 0, browser: null }, heuristic: true, staleIfError: 300 });
    expect(pages).toMatchObject({
      ttl: { edge: 3600, kv: 86400, browser: null },
      status: { "404": 60, "5xx": 0 },
      tags: ["html"],
      bypass: { always: false, headers: ["authorization"], cookies: globs("session*", "wordpress_logged_in_*", "wp-postpass_*", "PHPSESSID") },
    });
  });

  it("leaves the edge TTL to the origin in respect mode unless one is written, and turns heuristics on", () => {
    expect(compiledRoute(minimal({ origin: "respect" }))).toMatchObject({ ttl: { edge: null }, heuristic: true });
    expect(compiledRoute(minimal({ origin: "respect", ttl: { edge: 60 } }))).toMatchObject({ ttl: { edge: 60 } });
    expect(compiledRoute(minimal({}, { origin: "respect", ttl: { edge: 5 }, heuristic: false }))).toMatchObject({ ttl: { edge: 5 }, heuristic: false });
    expect(compiledRoute(minimal({ origin: "override" }))).toMatchObject({ ttl: { edge: 3600 }, heuristic: false });
  });

  it("merges objects field by field over the defaults, and lets lists replace", () => {
    const route = compiledRoute(
      minimal(
        { ttl: { kv: 0 }, status: { "404": 5 }, key: { query: { allow: ["page"] }, headers: ["Accept"] }, tags: ["b"] },
        { ttl: { edge: 10, kv: 600, browser: 30 }, status: { "404": 1, "5xx": 0 }, key: { query: { ignore: ["utm_*"], sort: true }, headers: ["x-a"], cookies: ["c"] }, tags: ["a"] },
      ),
    );
    expect(route).toMatchObject({
      ttl: { edge: 10, kv: 0, browser: 30 },
      status: { "404": 5, "5xx": 0 },
      // allow replaces the defaults' ignore (one setting: which names count); sort is inherited
      key: { query: { mode: "allow", names: globs("page"), sort: true }, headers: ["accept"], cookies: ["c"] },
      tags: ["b"],
    });
  });

  it("merges a route's bypass conditions field by field; false clears them, true always bypasses", () => {
    const defaults: RouteSettings = { bypass: { cookies: ["session*"], headers: ["Authorization"], methods: ["purge"] } };
    expect(compiledRoute(minimal({ bypass: { headers: ["x-preview"], query: ["nocache"] } }, defaults)).bypass).toEqual({
      always: false,
      cookies: globs("session*"),
      headers: ["x-preview"],
      query: globs("nocache"),
      methods: ["PURGE"],
    });
    expect(compiledRoute(minimal({}, defaults)).bypass).toMatchObject({ always: false, headers: ["authorization"] });
    expect(compiledRoute(minimal({ bypass: false }, defaults)).bypass).toEqual({ always: false, cookies: globs(), headers: [], query: globs(), methods: [] });
    expect(compiledRoute(minimal({ bypass: true }, defaults)).bypass).toMatchObject({ always: true, headers: [] });
    expect(compiledRoute(minimal({}, { bypass: true })).bypass.always).toBe(true);
    // an object replaces a boolean default (a boolean has no fields to merge)
    expect(compiledRoute(minimal({ bypass: { headers: ["x"] } }, { bypass: true })).bypass).toMatchObject({ always: false, headers: ["x"] });
  });

  it("compiles match, methods and timeouts", () => {
    expect(compiledRoute(minimal({ match: { path: "/a/*", host: "*.example.com", methods: ["get", "HEAD"] }, originTimeout: 2.5 }))).toMatchObject({
      match: { path: "/a/*", host: "*.example.com", methods: ["GET", "HEAD"], testHost: expect.any(Function) },
      originTimeoutMs: 2500,
    });
  });

  it("normalizes the origin URL and keeps its path prefix", () => {
    const origin = (o: string) => parseRules({ version: 1, origin: o, routes: [] }).rules?.origin;
    expect(origin("https://Origin.Example.com")).toBe("https://origin.example.com");
    expect(origin("https://origin.example.com/")).toBe("https://origin.example.com");
    expect(origin("http://127.0.0.1:8080/base/")).toBe("http://127.0.0.1:8080/base");
  });

  it("keeps a copy of the file as written", () => {
    const input = minimal({ tags: ["a"] }) as RulesFile;
    const rules = parseRules(input).rules!;
    expect(rules.source).toEqual(input);
    expect(rules.source).not.toBe(input);
  });

  it("gives warnings without refusing the file", () => {
    expect(parseRules({ version: 1, routes: [] })).toEqual({
      rules: { version: 1, origin: null, routes: [], source: { version: 1, routes: [] } },
      problems: [warning("$.routes", "no routes: every request passes through uncached", 'add a route, e.g. { "name": "all", "match": { "path": "/*" } }')],
    });
    const result = parseRules(minimal({ bypass: true, ttl: { edge: 5 }, tags: ["x"], debug: true }));
    expect(result.rules).not.toBeNull();
    const moot = (field: string) => warning(`$.routes[0].${field}`, "has no effect: this route always bypasses the cache", 'remove it, or give "bypass" conditions instead of true');
    expect(result.problems).toEqual([moot("ttl"), moot("tags")]);
  });
});

describe("parseRules on invalid files", () => {
  it("reports every problem at once, each with its path and a hint", () => {
    const bad = {
      $schema: 5,
      version: "1",
      origin: "https://user:pw@origin.example.com",
      cache: true,
      defaults: {
        ttl: { edge: "1h", kv: 59, browser: -5 },
        staleWhileRevalidate: 1.5,
        heuristic: "yes",
        clientCacheControl: "honour",
        originTimeout: 0,
        maxVariants: 0,
        maxObjectSize: { edge: "50MB" },
        edge: 60,
        key: { query: { ignore: "utm_*", sort: 1 }, headers: ["accept", 42], cookies: ["a b"] },
        bypass: { cookies: ["sess ion"], header: ["x"], methods: ["GE T"] },
        tags: ["a,b"],
        status: { "404": -1, "99": 5, "4XX": 0 },
        name: "x",
      },
      routes: [
        { name: "assets", match: { path: "/assets/*", methods: [] }, ttl: { edge: 60 } },
        { name: "bad name!", match: { host: "example.com:8080", path: "/(" }, bypass: { query: [""] } },
        { name: "pages", match: "/*", Tags: ["x"] },
        { name: "all", match: {} },
        { name: "all", match: { path: "/late" } },
        "not a route",
        { match: { path: "assets/*" } },
      ],
    };
    const seconds = "write seconds as a plain number, e.g. 3600 for an hour, 86400 for a day";
    expect(parseRules(bad)).toEqual({
      rules: null,
      problems: [
        error("$.$schema", "expected a string, got number", 'e.g. "./routes.schema.json"'),
        error("$.version", "expected the number 1, got string", 'write "version": 1, without quotes'),
        error("$.origin", "origin must not hold credentials", "remove user:password@; send credentials from the Worker, not the rules file"),
        error("$.cache", 'unknown field "cache"', "allowed fields here: $schema, version, origin, defaults, routes"),
        error("$.defaults.ttl.edge", "expected a whole number of seconds, got string", seconds),
        error("$.defaults.ttl.kv", "KV TTL must be 0 or at least 60, got 59", "KV needs at least 60 s; use 0 to skip KV"),
        error("$.defaults.ttl.browser", "must be at least 0, got -5", "use 0 to turn it off"),
        error("$.defaults.staleWhileRevalidate", "must be a whole number of seconds, got 1.5", "use 1 or 2"),
        error("$.defaults.heuristic", "expected true or false, got string", "write true or false, without quotes"),
        error("$.defaults.clientCacheControl", 'must be one of "ignore", "honor", got "honour"', 'did you mean "honor"?'),
        error("$.defaults.originTimeout", "must be more than 0 seconds, got 0", "e.g. 30; fractions such as 2.5 are allowed"),
        error("$.defaults.maxVariants", "must be at least 1, got 0", "use 1 or more"),
        error("$.defaults.maxObjectSize.edge", 'expected a whole number of bytes, got the string "50MB"', "write bytes as a plain number, e.g. 52428800 for 50 MiB"),
        error("$.defaults.edge", 'unknown field "edge"', 'put it inside "ttl": { "edge": ... }'),
        error("$.defaults.key.query.ignore", "expected a list of strings, got string", 'write a list in brackets, e.g. ["utm_*"]'),
        error("$.defaults.key.query.sort", "expected true or false, got number", "write true or false, without quotes"),
        error("$.defaults.key.headers[1]", "expected a string, got number", "put the value in double quotes"),
        error("$.defaults.key.cookies[0]", '"a b" is not a valid cookie name', "use letters, digits and !#$%&'*+-.^_`|~ only, without spaces, colons or quotes"),
        error("$.defaults.bypass.cookies[0]", '"sess ion" is not a valid cookie name pattern', "use letters, digits and !#$%&'*+-.^_`|~ only, without spaces, colons or quotes; * and ? are wildcards"),
        error("$.defaults.bypass.header", 'unknown field "header"', 'did you mean "headers"?'),
        error("$.defaults.bypass.methods[0]", '"GE T" is not a valid method', "write a method such as GET, HEAD or POST"),
        error("$.defaults.tags[0]", '"a,b" is not a valid tag', "tags are non-empty and hold no spaces or commas"),
        // JSON objects list integer-like keys first, whatever the file's order
        error('$.defaults.status["99"]', '"99" is not a status code or class', 'use a status code from 100 to 599 ("404") or a class ("4xx")'),
        error('$.defaults.status["404"]', "must be at least 0, got -1", "use 0 to turn it off"),
        error('$.defaults.status["4XX"]', '"4XX" is not a status code or class', 'write "4xx"'),
        error("$.defaults.name", 'unknown field "name"', "names belong to routes"),
        error("$.routes[0].match.methods", "an empty list of methods matches no request", 'omit "methods" to match any method'),
        error("$.routes[1].name", 'invalid route name "bad name!"', "use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (it shows in Cache-Status)"),
        error("$.routes[1].match.host", 'invalid host pattern "example.com:8080"', 'write a host name pattern alone, e.g. "example.com" or "*.example.com", without scheme, port or path'),
        error("$.routes[1].match.path", 'invalid path pattern "/("', 'use URLPattern syntax, e.g. "/blog/:slug", "/assets/*" or "/*.(css|js)"; every ( needs its )'),
        error("$.routes[1].bypass.query[0]", "query parameter name is empty", 'remove the empty string or write a name such as "utm_*"'),
        error("$.routes[2].match", "expected the match conditions (an object), got string", 'write { "path": "/*" }'),
        error("$.routes[2].Tags", 'unknown field "Tags"', 'did you mean "tags"?'),
        error("$.routes[4].name", 'duplicate route name "all" (also $.routes[3])', "give each route its own name"),
        error("$.routes[4].match", 'this route can never match: route "all" ($.routes[3]) matches every request it would', 'move it above route "all", or narrow route "all"\'s match'),
        error("$.routes[5]", "expected a route (an object), got string", 'write it as { "name": "...", "match": { "path": "/..." }, ...settings }'),
        error("$.routes[6].match.path", 'path pattern must start with "/", got "assets/*"', 'write "/assets/*"'),
        error("$.routes[6].name", 'missing required field "name"', 'add a unique "name", e.g. "assets"'),
      ],
    });
  });

  const routeFields = "allowed fields here: name, match, ttl, status, origin, staleWhileRevalidate, staleIfError, heuristic, clientCacheControl, stripSetCookie, cacheAuthorized, storePostAnswers, originTimeout, maxVariants, maxObjectSize, key, bypass, tags, debug, log, shield, originHealth, buildHeader, kv, fallbackOrigin";
  const cases: [string, unknown, Problem[]][] = [
    ["a non-object", [], [error("$", "expected a rules file (an object), got array", "write it as { ... } with the fields $schema, version, origin, defaults, routes")]],
    ["no version or routes", {}, [error("$.version", 'missing required field "version"', 'add "version": 1'), error("$.routes", 'missing required field "routes"', 'add "routes": [ { "name": ..., "match": { "path": "/*" } } ]')]],
    ["an unknown version", top({ version: 2 }), [error("$.version", "unsupported version 2", 'this edge-cache reads version 1 files only; write "version": 1 and check the fields against the docs')]],
    ["routes not a list", { version: 1, routes: {} }, [error("$.routes", "expected a list of routes, got object", 'write "routes": [ { "name": ..., "match": { ... } }, ... ]')]],
    ["a route without match", { version: 1, routes: [{ name: "a" }] }, [error("$.routes[0].match", 'missing required field "match"', 'add "match": { "path": "/..." }; { } matches every request')]],
    ["a setting at the top level", top({ ttl: {} }), [error("$.ttl", 'unknown field "ttl"', 'put it inside "defaults" (or a route)')]],
    ["an origin that is not a URL", top({ origin: "origin.example.com" }), [error("$.origin", 'origin must be an absolute http(s) URL, got "origin.example.com"', 'write an absolute URL such as "https://origin.example.com" (a path prefix is allowed), or omit "origin" to fetch the request\'s own URL')]],
    ["an origin with a query", top({ origin: "https://o.example.com/?x=1" }), [error("$.origin", "origin must not have a query or fragment", "remove everything from the ? or #")]],
    ["an origin with a fragment", top({ origin: "https://o.example.com/#top" }), [error("$.origin", "origin must not have a query or fragment", "remove everything from the ? or #")]],
    ["an origin mode at the top", top({ origin: "respect" }), [error("$.origin", '"respect" is an origin mode, but the top-level "origin" is the origin\'s URL', 'put the mode inside "defaults": { "origin": ... }')]],
    ["an origin URL as a route's mode", minimal({ origin: "https://x.example.com" as never }), [error("$.routes[0].origin", 'must be one of "respect", "override", "fallback", got "https://x.example.com"', 'the origin URL is set once, as "origin" at the top of the file; here "origin" is the mode')]],
    ["ignore with allow", minimal({ key: { query: { ignore: ["a"], allow: ["b"] } } }), [error("$.routes[0].key.query.allow", 'cannot set both "ignore" and "allow"', 'use "allow" to keep only the listed parameters, or "ignore" to drop the listed ones, not both')]],
    ["an empty header name", minimal({ bypass: { headers: [""] } }), [error("$.routes[0].bypass.headers[0]", "header name is empty", 'remove the empty string or write a header name such as "authorization"')]],
    ["a header with its value", minimal({ key: { headers: ["accept: text/html"] } }), [error("$.routes[0].key.headers[0]", '"accept: text/html" is not a valid header name', "write the name alone, without a colon or value")]],
    ["a string for a list", minimal({ tags: "html" as never }), [error("$.routes[0].tags", "expected a list of strings, got string", 'write a list in brackets, e.g. ["html"]')]],
    ["a query string in the path", minimal({ match: { path: "/search?q=1" } }), [error("$.routes[0].match.path", 'invalid path pattern "/search?q=1"', "a path pattern matches the path only: remove the query string (from ?)")]],
    ["a URL as the path", minimal({ match: { path: "https://example.com/a" } }), [error("$.routes[0].match.path", 'path pattern must start with "/", got "https://example.com/a"', 'write only the path here; put the host name in "host"')]],
    ["a host with a scheme", minimal({ match: { host: "https://example.com" } }), [error("$.routes[0].match.host", 'invalid host pattern "https://example.com"', 'write a host name pattern alone, e.g. "example.com" or "*.example.com", without scheme, port or path')]],
    ["a lower-case class written upper", minimal({ status: { "5XX": 0 } }), [error('$.routes[0].status["5XX"]', '"5XX" is not a status code or class', 'write "5xx"')]],
    ["a status out of range", minimal({ status: { "600": 0 } }), [error('$.routes[0].status["600"]', '"600" is not a status code or class', 'use a status code from 100 to 599 ("404") or a class ("4xx")')]],
    ["a misplaced TTL", minimal({ kv: 60 } as never), [error("$.routes[0].kv", "expected the KV settings (an object), got number", 'a KV TTL goes inside "ttl": { "kv": 60 }')]],
    ["a typo far from any name", minimal({ zzzzzz: 1 } as never), [error("$.routes[0].zzzzzz", 'unknown field "zzzzzz"', routeFields)]],
    ["a case typo", minimal({ StaleIfError: 1 } as never), [error("$.routes[0].StaleIfError", 'unknown field "StaleIfError"', 'did you mean "staleIfError"?')]],
    ["a field named like an Object method", minimal({ constructor: 1, toString: 2 } as never), [
      error("$.routes[0].constructor", 'unknown field "constructor"', routeFields),
      error("$.routes[0].toString", 'unknown field "toString"', routeFields),
    ]],
    ["a KV TTL under a minute", minimal({ ttl: { kv: 1 } }), [error("$.routes[0].ttl.kv", "KV TTL must be 0 or at least 60, got 1", "KV needs at least 60 s; use 0 to skip KV")]],
    ["a bypass of the wrong type", minimal({ bypass: "always" as never }), [error("$.routes[0].bypass", "expected true, false or an object of conditions, got string", 'e.g. true, or { "cookies": ["session*"], "headers": ["authorization"] }')]],
  ];
  it.each(cases)("reports %s", (_, input, problems) => {
    expect(parseRules(input)).toEqual({ rules: null, problems });
  });
});

describe("parseRules on routes that can never match", () => {
  const routes = (...r: unknown[]) => parseRules({ version: 1, routes: r.map((match, i) => ({ name: `r${i}`, match })) });
  const shadowed = (later: number, earlier: number) =>
    error(`$.routes[${later}].match`, `this route can never match: route "r${earlier}" ($.routes[${earlier}]) matches every request it would`, `move it above route "r${earlier}", or narrow route "r${earlier}"'s match`);

  it("flags every route after a catch-all", () => {
    expect(routes({ path: "/*" }, { path: "/a" }, { host: "x.example.com" }).problems).toEqual([shadowed(1, 0), shadowed(2, 0)]);
    expect(routes({ path: "*" }, { path: "/a" }).problems).toEqual([shadowed(1, 0)]);
    expect(routes({}, { path: "/a", methods: ["POST"] }).problems).toEqual([shadowed(1, 0)]);
  });

  it("flags an identical earlier match, and methods already taken", () => {
    expect(routes({ path: "/a/*", host: "x.com" }, { path: "/a/*", host: "x.com" }).problems).toEqual([shadowed(1, 0)]);
    expect(routes({ path: "/a", methods: ["GET", "HEAD"] }, { path: "/a", methods: ["head"] }).problems).toEqual([shadowed(1, 0)]);
  });

  it("accepts routes an earlier one only partly covers", () => {
    expect(routes({ path: "/a/*" }, { path: "/*" }).problems).toEqual([]);
    expect(routes({ path: "/*", host: "x.com" }, { path: "/a" }).problems).toEqual([]);
    expect(routes({ path: "/*", methods: ["GET"] }, { path: "/a" }).problems).toEqual([]);
    expect(routes({ path: "/*", methods: ["GET"] }, { path: "/a", methods: ["GET", "POST"] }).problems).toEqual([]);
  });
});

describe("parseRulesText", () => {
  const syntax = (text: string) => parseRulesText(text).problems;

  it("parses a valid file, with or without a byte-order mark", () => {
    const text = JSON.stringify(routesJson);
    expect(parseRulesText(text).problems).toEqual([]);
    expect(parseRulesText(`\uFEFF${text}`).rules?.routes.length).toBe(6);
  });

  it("locates syntax errors by line and column and says how to fix them", () => {
    expect(syntax('{\n  "version": 1,\n}')).toEqual([error("$", 'not valid JSON at line 3, column 1: expected a field name in double quotes, got "}"', "remove the comma before this closing bracket (JSON allows no trailing commas)")]);
    expect(syntax('{\n  // note\n  "version": 1\n}')).toEqual([error("$", 'not valid JSON at line 2, column 3: expected a field name in double quotes, got "/"', "JSON has no comments: remove them")]);
    expect(syntax("{'version': 1}")).toEqual([error("$", "not valid JSON at line 1, column 2: expected a field name in double quotes, got \"'\"", "JSON strings and field names use double quotes")]);
    expect(syntax('{"version": 1')).toEqual([error("$", 'not valid JSON at line 1, column 14: expected "," or "}", got the end of the file', 'the file ends too early: look for a missing }, ] or "')]);
    expect(syntax('{"routes": [1,]}')).toEqual([error("$", 'not valid JSON at line 1, column 15: expected a value, got "]"', "remove the comma before this closing bracket (JSON allows no trailing commas)")]);
    expect(syntax('{"a": yes}')).toEqual([error("$", 'not valid JSON at line 1, column 7: expected a value, got "y"', "put strings in double quotes; the only bare words are true, false and null")]);
    expect(syntax('{"a": "x\ny"}')).toEqual([error("$", 'not valid JSON at line 1, column 9: expected a closing " before the end of the line, got "\\n"', "a string cannot span lines: close it on the same line, or write \\n for a line break")]);
    expect(syntax("{} {}")).toEqual([error("$", 'not valid JSON at line 1, column 4: expected the end of the file, got "{"', "there is more after the last closing bracket: remove it or check the brackets")]);
    expect(syntax("  \n")).toEqual([error("$", "the file is empty", 'start from { "version": 1, "routes": [] }')]);
  });

  it("reports validation problems of well-formed JSON", () => {
    expect(syntax('{"version": 1, "x": 1, "routes": []}')).toEqual([
      error("$.x", 'unknown field "x"', "allowed fields here: $schema, version, origin, defaults, routes"),
      warning("$.routes", "no routes: every request passes through uncached", 'add a route, e.g. { "name": "all", "match": { "path": "/*" } }'),
    ]);
  });
});

describe("parseRules never throws", () => {
  function checkInvariants(input: unknown) {
    const { rules, problems } = parseRules(input);
    const errors = problems.filter((p) => p.severity === "error");
    expect(rules === null).toBe(errors.length > 0);
    for (const p of problems) {
      expect(p.path.startsWith("$")).toBe(true);
      expect(p.message).not.toBe("");
    }
  }

  it("for arbitrary JSON values (property)", () => {
    fc.assert(fc.property(fc.jsonValue(), checkInvariants), { numRuns: 500 });
  });

  it("for arbitrary JSON text (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        const { rules, problems } = parseRulesText(text);
        if (rules === null) expect(problems.some((p) => p.severity === "error" && p.path.startsWith("$"))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("for valid files with one part replaced, removed or misnamed (property)", () => {
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    };
    walk(routesJson, []);
    const mutation = fc.record({
      at: fc.integer({ min: 1, max: paths.length - 1 }),
      kind: fc.constantFrom("replace", "remove", "rename"),
      value: fc.jsonValue(),
      name: fc.string(),
    });
    fc.assert(
      fc.property(mutation, ({ at, kind, value, name }) => {
        const file = structuredClone(routesJson) as unknown as Record<string | number, unknown>;
        const path = paths[at]!;
        const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as Record<string | number, unknown>, file);
        const key = path[path.length - 1]!;
        const old = parent[key];
        if (kind === "replace") parent[key] = value;
        else if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else {
          delete parent[key];
          if (kind === "rename") parent[name] = old;
        }
        checkInvariants(file);
      }),
      { numRuns: 1000 },
    );
  });

  it("even when reading the input itself throws", () => {
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error("boom"); } });
    expect(parseRules(hostile)).toEqual({
      rules: null,
      problems: [error("$", "internal error while checking the rules: boom", "this is a bug in edge-cache, not in your file; please report it with the file attached")],
    });
  });
});
