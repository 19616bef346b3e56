/**
 * The linear-time pattern matcher for regex purges: it agrees with the runtime's
 * RegExp on the accepted syntax, refuses what cannot run in linear time, and a
 * pattern written to backtrack forever costs no more than any other.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePattern, patternMatches } from "../../src/purge/pattern";

function matches(pattern: string, subject: string): boolean {
  const c = compilePattern(pattern);
  if (!c.ok) throw new Error(c.message);
  return patternMatches(c.program, subject);
}

describe("compilePattern / patternMatches", () => {
  it.each([
    ["/.*", "/anything?at=all"],
    ["^/blog/", "/blog/post-1"],
    ["^/blog/", "/x/blog/"],
    ["\\.html$", "/a/b.html"],
    ["\\.html$", "/a/b.html?x=1"],
    ["^/(en|fr)/news/[0-9]+$", "/fr/news/42"],
    ["^/(en|fr)/news/[0-9]+$", "/de/news/42"],
    ["^/p/\\d{2,3}$", "/p/123"],
    ["^/p/\\d{2,3}$", "/p/1234"],
    ["^/p/\\d{2,}$", "/p/12345"],
    ["[^a-z]", "abc"],
    ["a(?:bc)?d", "xadx"],
    ["colou?r", "/color"],
    ["^$", ""],
    ["wp-content/.*?\\.css", "/wp-content/themes/x.css"],
  ])("%s on %s agrees with RegExp", (pattern, subject) => {
    expect(matches(pattern, subject)).toBe(new RegExp(pattern).test(subject));
  });

  it("agrees with RegExp on random patterns of the accepted syntax", () => {
    const atom = fc.constantFrom("a", "b", ".", "[ab]", "[^a]", "\\d", "/", "(a|b)", "(?:ab)", "^", "$");
    const quant = fc.constantFrom("", "", "*", "+", "?", "{1,2}");
    const pattern = fc.array(fc.tuple(atom, quant).map(([a, q]) => (a === "^" || a === "$" ? a : a + q)), { minLength: 1, maxLength: 6 }).map((p) => p.join(""));
    fc.assert(
      fc.property(pattern, fc.stringMatching(/^[ab1/]{0,8}$/), (p, s) => {
        expect(matches(p, s)).toBe(new RegExp(p).test(s));
      }),
    );
  });

  it.each([
    ["(a)\\1", "backreferences are not accepted"],
    ["(?=a)", "lookaround and named groups are not accepted"],
    ["a**", "a repeat of a repeat"],
    ["*a", "repeats nothing"],
    ["(a", 'a "(" has no ")"'],
    ["a)", 'unmatched ")"'],
    ["[ab", 'a "[" has no "]"'],
    ["a{1,999}", "counts go from 0 to 64"],
    ["\\bword", "\\b is not accepted"],
    ["((a{64}){64}){64}", "expands to more than 2048 steps"],
    ["a".repeat(257), "longer than 256"],
    ["", "empty"],
  ])("refuses %s", (pattern, message) => {
    const c = compilePattern(pattern);
    expect(c.ok).toBe(false);
    expect(c.ok ? "" : c.message).toContain(message);
  });

  it("a pattern that makes a backtracking engine explode runs in linear time", () => {
    // (a+)+$ on "aaaa…b" takes exponential time in a backtracking engine.
    const subject = `/${"a".repeat(8000)}b`;
    expect(matches("(a+)+$", subject)).toBe(false);
    expect(matches("(.*a){20}x", subject)).toBe(false);
  });
});
