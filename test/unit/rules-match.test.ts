import fc from "fast-check";
import { describe, expect, it } from "vitest";
import routesJson from "../../config/routes.json";
import { matchRoute } from "../../src/rules/match";
import { compileComponentTest } from "../../src/rules/pattern-test";
import { parseRules } from "../../src/rules/parse";
import type { CompiledRules, RouteMatch } from "../../src/rules/types";

function rules(...matches: RouteMatch[]): CompiledRules {
  const result = parseRules({ version: 1, routes: matches.map((match, i) => ({ name: `r${i}`, match })) });
  if (!result.rules) throw new Error(JSON.stringify(result.problems));
  return result.rules;
}

const match = (r: CompiledRules, url: string, method = "GET") => matchRoute(r, new URL(url), method);

describe("matchRoute", () => {
  it("picks the first route that fits and says why each earlier one did not", () => {
    const r = rules({ path: "/assets/*" }, { path: "/api/*", methods: ["GET", "HEAD"] }, { host: "*.example.com" }, { path: "/*" });
    const result = match(r, "https://www.example.org/api/items?x=1", "POST");
    expect(result.route?.name).toBe("r3");
    expect(result.tried).toEqual([
      { name: "r0", matched: false, reason: "path /api/items does not match /assets/*" },
      { name: "r1", matched: false, reason: "method POST not in GET, HEAD" },
      { name: "r2", matched: false, reason: "host www.example.org does not match *.example.com" },
      { name: "r3", matched: true, reason: "matched" },
    ]);
  });

  it("stops at the winner", () => {
    const result = match(rules({ path: "/a" }, { path: "/*" }), "https://x.example/a");
    expect(result.route?.name).toBe("r0");
    expect(result.tried).toEqual([{ name: "r0", matched: true, reason: "matched" }]);
  });

  it("returns no route, and every reason, when nothing matches", () => {
    const result = match(rules({ path: "/a" }, { path: "/b/:id" }), "https://x.example/c");
    expect(result).toEqual({
      route: null,
      tried: [
        { name: "r0", matched: false, reason: "path /c does not match /a" },
        { name: "r1", matched: false, reason: "path /c does not match /b/:id" },
      ],
    });
  });

  it("compares methods without regard to case", () => {
    expect(match(rules({ methods: ["GET"] }), "https://x.example/", "get").route?.name).toBe("r0");
    expect(match(rules({ methods: ["get"] }), "https://x.example/", "GET").route?.name).toBe("r0");
  });

  it("matches host and path together when both are given", () => {
    const r = rules({ host: "static.example.com", path: "/img/*" });
    expect(match(r, "https://static.example.com/img/a.png").route?.name).toBe("r0");
    expect(match(r, "https://STATIC.example.com:8443/img/a.png").route?.name).toBe("r0");
    expect(match(r, "https://static.example.com/css/a.css").tried[0]?.reason).toBe("path /css/a.css does not match /img/*");
    expect(match(r, "https://example.com/img/a.png").tried[0]?.reason).toBe("host example.com does not match static.example.com");
  });

  it("uses URLPattern syntax: parameters, optional parts, regular-expression groups", () => {
    const r = rules({ path: "/blog/:slug" }, { path: "/docs{/:page}?" }, { path: "/*.(css|js)" });
    expect(match(r, "https://x.example/blog/hello").route?.name).toBe("r0");
    expect(match(r, "https://x.example/blog/a/b").route).toBeNull();
    expect(match(r, "https://x.example/docs").route?.name).toBe("r1");
    expect(match(r, "https://x.example/docs/intro").route?.name).toBe("r1");
    expect(match(r, "https://x.example/deep/app.js").route?.name).toBe("r2");
    expect(match(r, "https://x.example/app.json").route).toBeNull();
  });

  it("matches the percent-encoded path, as the URL holds it", () => {
    const r = rules({ path: "/café/*" });
    expect(match(r, "https://x.example/caf%C3%A9/menu").route?.name).toBe("r0");
    expect(match(r, "https://x.example/café/menu").route?.name).toBe("r0");
  });

  it("routes config/routes.json as its owner intends", () => {
    const r = parseRules(routesJson).rules!;
    const name = (path: string, method = "GET") => match(r, `https://blog.example.com${path}`, method).route?.name;
    expect(name("/wp-admin/")).toBe("admin");
    expect(name("/wp-admin/load-styles.css")).toBe("admin");
    expect(name("/wp-login.php")).toBe("login");
    expect(name("/assets/app.3f2a.js")).toBe("assets");
    expect(name("/assets/app.js", "POST")).toBe("pages");
    expect(name("/wp-content/uploads/cat.jpeg")).toBe("static");
    expect(name("/api/posts")).toBe("api");
    expect(name("/2024/01/hello-world/")).toBe("pages");
    expect(name("/")).toBe("pages");
  });

  it("always finds a route when the last one matches everything (property)", () => {
    const r = parseRules(routesJson).rules!;
    const segment = fc.stringMatching(/^[a-zA-Z0-9._~%-]{0,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 5 }), fc.constantFrom("GET", "HEAD", "POST", "DELETE"), (segments, method) => {
        const result = match(r, `https://example.com/${segments.join("/")}`, method);
        expect(result.route).not.toBeNull();
        expect(result.tried.at(-1)).toEqual({ name: result.route!.name, matched: true, reason: "matched" });
        expect(result.tried.slice(0, -1).every((t) => !t.matched)).toBe(true);
      }),
    );
  });
});

describe("compiled path and host tests", () => {
  const paths = ["/", "/a", "/a/", "/a/b", "/a/b/c.css", "/blog/hello", "/blog/a/b", "/docs", "/docs/intro", "/caf%C3%A9/menu", "/x.js", "/x.json", "/assets", "/assets/", "/assets/app.3f2a.js", "/wp-login.php", "/wp-loginXphp", "/A/B", "/%2F/x", "/a//b", "/a-b_c~d"];
  const pathPatterns = ["/*", "*", "/a", "/a/*", "/a/*/c.css", "/blog/:slug", "/docs{/:page}?", "/*.(css|js)", "/:dir/:file.(css|js)", "/café/*", "/assets/*", "/wp-login.php", "/a-b_c~d", "/:x(a|b)", "/a*", "/a/:b?", "/a/:b+", "/a/**", "/(a|A)/*", "/a\\*"];

  it("decide exactly as URLPattern does, for every pattern shape", () => {
    for (const source of pathPatterns) {
      const pattern = new URLPattern({ pathname: source });
      const test = compileComponentTest("pathname", source);
      for (const path of paths) expect(test(path), `${source} on ${path}`).toBe(pattern.test({ pathname: path }));
    }
  });

  it("decide exactly as URLPattern does on generated paths (property)", () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9._~%-]{0,6}$/);
    fc.assert(
      fc.property(fc.constantFrom(...pathPatterns), fc.array(fc.oneof(segment, fc.constantFrom("a", "b", "c.css", "x.js", "blog", "docs", "assets")), { maxLength: 4 }), (source, segments) => {
        const path = new URL(`https://x.example/${segments.join("/")}`).pathname;
        expect(compileComponentTest("pathname", source)(path)).toBe(new URLPattern({ pathname: source }).test({ pathname: path }));
      }),
    );
  });

  it("match hosts as URLPattern does", () => {
    const hosts = ["example.com", "www.example.com", "a.b.example.com", "example.org", "static.example.com", "xn--caf-dma.example"];
    for (const source of ["example.com", "*.example.com", ":sub.example.com", "static.example.com", "café.example", "*"]) {
      const pattern = new URLPattern({ hostname: source });
      const test = compileComponentTest("hostname", source);
      for (const host of hosts) expect(test(host), `${source} on ${host}`).toBe(pattern.test({ hostname: host }));
    }
  });

  it("leaves no URLPattern work to request time for literal, *, :name and (a|b) patterns", () => {
    const original = URLPattern.prototype.test;
    let calls = 0;
    URLPattern.prototype.test = function (this: URLPattern, ...args: Parameters<URLPattern["test"]>) {
      calls++;
      return original.apply(this, args);
    };
    try {
      const tests = ["/*", "/wp-login.php", "/assets/*", "/*.(css|js|woff2)", "/blog/:slug", "/a-b_c~d/*"].map((p) => compileComponentTest("pathname", p));
      const hosts = ["*.example.com", "static.example.com"].map((h) => compileComponentTest("hostname", h));
      for (const t of tests) t("/wp-login.php");
      for (const t of hosts) t("static.example.com");
      expect(calls).toBe(0);
      compileComponentTest("pathname", "/docs{/:page}?")("/docs");
      expect(calls).toBe(1);
    } finally {
      URLPattern.prototype.test = original;
    }
  });

  it("the tried list, read after the match, gives each route's reason", () => {
    const r = rules({ path: "/a" }, { path: "/*" });
    const result = match(r, "https://x.example/b");
    expect(result.route?.name).toBe("r1");
    expect(result.tried).toEqual([
      { name: "r0", matched: false, reason: "path /b does not match /a" },
      { name: "r1", matched: true, reason: "matched" },
    ]);
  });
});
