/**
 * Issue 10, item 1: one normalized URL for every decision. Any percent-encoded
 * spelling of unreserved characters (RFC 3986 §2.3, §6.2.2.2), in any hex case,
 * lands on the same route, bypass verdict and key as the plain path.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide } from "../../src/explain/decide";
import { buildCacheKey, normalizeUrl } from "../../src/policy/cache-key";
import { parseRules } from "../../src/rules/parse";

const parsed = parseRules({
  version: 1,
  routes: [
    { name: "api", match: { path: "/api/*" }, ttl: { edge: 0, kv: 0 } },
    { name: "item", match: { path: "/shop/:id" }, key: { query: { sort: true } } },
    { name: "private", match: { path: "/account/*" }, bypass: true },
    { name: "all", match: { path: "/*" } },
  ],
});
const rules = parsed.rules!;

const UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
const unreserved = fc.constantFrom(...UNRESERVED);
/** One character, plain or as %XX with either hex case. */
const spelled = (ch: string) =>
  fc.constantFrom(ch, `%${ch.charCodeAt(0).toString(16).toUpperCase()}`, `%${ch.charCodeAt(0).toString(16).toLowerCase()}`);
/** A path segment (no lone `.` or `..`, which the URL parser resolves) and one random spelling of it. */
const segment = fc
  .array(unreserved, { minLength: 1, maxLength: 8 })
  .map((cs) => cs.join(""))
  .filter((s) => s !== "." && s !== "..");
const spelling = (plain: string) => fc.tuple(...[...plain].map(spelled)).map((parts) => parts.join(""));

const pathAndSpelling = fc
  .tuple(fc.constantFrom("api", "shop", "account", "blog"), fc.array(segment, { minLength: 1, maxLength: 3 }), segment)
  .chain(([first, rest, q]) => {
    const plain = [first, ...rest];
    return fc
      .tuple(fc.tuple(...plain.map(spelling)), spelling(q))
      .map(([spelt, qs]) => ({ plain: `/${plain.join("/")}?q=${q}`, encoded: `/${spelt.join("/")}?q=${qs}` }));
  });

describe("percent-encoded unreserved characters", () => {
  it("land on the same route, key and origin URL as the plain path, and the same bypass verdict", () => {
    fc.assert(
      fc.property(pathAndSpelling, ({ plain, encoded }) => {
        const a = decide(rules, new URL(`https://site.test${plain}`), "GET", new Headers());
        const b = decide(rules, new URL(`https://site.test${encoded}`), "GET", new Headers());
        expect(b.route).toEqual(a.route);
        expect(b.originUrl).toBe(a.originUrl);
        const route = rules.routes[a.route!.index]!;
        const keyOf = (u: string) => buildCacheKey(normalizeUrl(new URL(`https://site.test${u}`)), new Headers(), route.key).key;
        expect(keyOf(encoded)).toBe(keyOf(plain));
        // An encoded dot in the path may have been a dot segment to the origin: such a
        // path is passed through, never stored (bypass "path"), whatever its route.
        if (/%2e/i.test(encoded.split("?")[0]!) && a.outcome === "cache") expect(b.bypass).toEqual({ reason: "path", detail: null });
        else {
          expect(b.outcome).toBe(a.outcome);
          expect(b.bypass).toEqual(a.bypass);
          expect(b.key?.key).toBe(a.key?.key);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("normalizeUrl is idempotent and leaves plain URLs as they are", () => {
    fc.assert(
      fc.property(pathAndSpelling, ({ plain, encoded }) => {
        const once = normalizeUrl(new URL(`https://site.test${encoded}`));
        expect(normalizeUrl(once).href).toBe(once.href);
        expect(once.href).toBe(`https://site.test${plain}`);
      }),
    );
  });

  it("keeps reserved characters encoded (upper-case hex) and still bypasses an encoded dot", () => {
    expect(normalizeUrl(new URL("https://site.test/a%2fb/%7e?x=%2f%41")).href).toBe("https://site.test/a%2Fb/~?x=%2FA");
    const dot = decide(rules, new URL("https://site.test/blog/..%2e%2Fx"), "GET", new Headers());
    expect(dot.bypass).toEqual({ reason: "path", detail: null });
  });
});
