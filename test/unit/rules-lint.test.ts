import { describe, expect, it } from "vitest";
import bundled from "../../config/routes.json";
import demo from "../../config/demo.routes.json";
import { lintRules, mayServePages } from "../../src/rules/lint";
import { parseRules } from "../../src/rules/parse";
import type { Problem } from "../../src/rules/types";

function lint(file: unknown): Problem[] {
  const result = parseRules(file);
  if (!result.rules) throw new Error(JSON.stringify(result.problems));
  return lintRules(result.rules);
}

describe("lintRules: valid but risky", () => {
  it("the shipped rules files have no warnings", () => {
    expect(lint(bundled)).toEqual([]);
    expect(lint(demo)).toEqual([]);
  });

  it("finds every kind of risk, each at the path where it is written, in file order", () => {
    const problems = lint({
      version: 1,
      defaults: { stripSetCookie: true },
      routes: [
        { name: "pages", match: { path: "/*.html" }, origin: "override" },
        { name: "auth", match: { path: "/account/*" }, cacheAuthorized: true, bypass: { cookies: ["session*"] } },
        { name: "per-ua", match: { path: "/ua/*" }, key: { headers: ["User-Agent", "accept-language", "x-forwarded-for"] } },
        { name: "blog", match: { path: "/blog/*" } },
        { name: "feed", match: { path: "/blog/feed.xml" } },
      ],
    });
    expect(problems).toEqual([
      {
        severity: "warning",
        path: "$.routes[0].origin",
        message: 'route "pages" overrides the origin\'s Cache-Control on what may be HTML pages, and no cookie bypasses it: a page rendered for a logged-in user can be stored and shown to everyone',
        hint: 'add "bypass": { "cookies": ["session*", ...] } with your session cookie names, or use "origin": "fallback" so the origin\'s private/no-store still count',
      },
      expect.objectContaining({ path: "$.defaults.stripSetCookie", message: expect.stringMatching(/^route "pages" stores answers that set cookies/) }),
      {
        severity: "warning",
        path: "$.routes[1].cacheAuthorized",
        message: 'route "auth" stores answers to requests with Authorization even when the origin did not mark them public: one user\'s answer can be served to another',
        hint: 'remove "cacheAuthorized" unless every answer on this route is the same for every user; an origin can allow it per response with Cache-Control: public or s-maxage',
      },
      expect.objectContaining({ path: "$.defaults.stripSetCookie", message: expect.stringMatching(/^route "auth" /) }),
      expect.objectContaining({ path: "$.defaults.stripSetCookie", message: expect.stringMatching(/^route "per-ua" /) }),
      {
        severity: "warning",
        path: "$.routes[2].key",
        message: 'route "per-ua" keys on "user-agent", "x-forwarded-for", which differ per user or per request: almost every request is a miss, and each stores another copy',
        hint: 'for mobile and desktop pages use "key": { "device": true } (three variants) instead of the whole User-Agent',
      },
      expect.objectContaining({ path: "$.defaults.stripSetCookie", message: expect.stringMatching(/^route "blog" /) }),
      expect.objectContaining({ path: "$.defaults.stripSetCookie", message: expect.stringMatching(/^route "feed" /) }),
      {
        severity: "warning",
        path: "$.routes[4].match",
        message: 'route "feed" never matches: route "blog" ($.routes[3]) comes first and matches every request it would (/blog/* takes /blog/feed.xml)',
        hint: 'move "feed" above "blog", or narrow "blog"\'s match',
      },
    ]);
  });

  it("a route that lists HEAD but not GET never matches a HEAD (it is matched as its GET)", () => {
    expect(lint({ version: 1, routes: [{ name: "heads", match: { path: "/h/*", methods: ["HEAD"] } }, { name: "both", match: { path: "/b/*", methods: ["GET", "HEAD"] } }] })).toEqual([
      {
        severity: "warning",
        path: "$.routes[0].match.methods",
        message: 'route "heads" lists HEAD but not GET: a HEAD is matched as the GET it stands for, so this route never matches a HEAD',
        hint: 'add "GET" to its "methods", or remove "HEAD"',
      },
    ]);
  });

  it("stays quiet where the risk is absent", () => {
    expect(
      lint({
        version: 1,
        routes: [
          // override on assets, or with a session-cookie bypass, or storing nowhere, or always bypassing
          { name: "assets", match: { path: "/assets/*" }, origin: "override" },
          { name: "static", match: { path: "/*.(css|js|png)" }, origin: "override" },
          { name: "guarded", match: { path: "/shop/*" }, origin: "override", bypass: { cookies: ["sess"] } },
          { name: "nowhere", match: { path: "/n/*" }, origin: "override", ttl: { edge: 0, kv: 0 }, stripSetCookie: true },
          { name: "off", match: { path: "/off/*" }, bypass: true, cacheAuthorized: true },
          // cacheAuthorized under an authorization bypass has no effect
          { name: "bypassed", match: { path: "/b/*" }, cacheAuthorized: true, bypass: { headers: ["authorization"] } },
          // a prefix route whose methods do not cover the later one's, or another host
          { name: "get-only", match: { path: "/x/*", methods: ["GET"] } },
          { name: "x-all", match: { path: "/x/y" } },
          { name: "other-host", match: { path: "/z/*", host: "a.example.com" } },
          { name: "z", match: { path: "/z/y" } },
          { name: "pattern", match: { path: "/p/:id/*" } },
          { name: "p", match: { path: "/p/1/x" } },
        ],
      }),
    ).toEqual([]);
  });

  it.each([
    ["/*", true],
    ["/blog/:slug", true],
    ["/*.html", true],
    ["/*.(html|css)", true],
    ["/*.php", true],
    ["/*.(css|js)", false],
    ["/feed.xml", false],
    ["/assets/*", false],
    ["/static/app/*", false],
  ])("mayServePages(%s) is %s", (path, expected) => {
    expect(mayServePages(path)).toBe(expected);
  });
});
