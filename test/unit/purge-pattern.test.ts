/**
 * Regex purges: which patterns are accepted (bounded length, no constructs that
 * cannot be bounded), and the literal prefix each is purged as: every URL the pattern
 * matches starts with it, so the purge takes at least what was asked.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPattern } from "../../src/purge/pattern";

const prefixOf = (pattern: string) => {
  const c = checkPattern(pattern);
  if (!c.ok) throw new Error(c.message);
  return c.prefix;
};

describe("checkPattern", () => {
  it.each([
    ["/.*", ""],
    [".*", ""],
    ["^/blog/.*", "/blog/"],
    ["^/blog/(a|b)/", "/blog/"],
    ["^/blog/post-1$", "/blog/post-1"],
    ["^/a|^/b", ""],
    ["^/colou?r", "/colo"],
    ["^/p/\\d+", "/p/"],
    ["^/a\\.html", "/a.html"],
    ["^/a\\.?html", "/a"],
    ["^/wp-content/[a-z]+", "/wp-content/"],
    ["\\.css$", ""],
  ])("%s is purged as the prefix %j", (pattern, prefix) => {
    expect(prefixOf(pattern)).toBe(prefix);
  });

  it("every string an accepted pattern matches starts with its prefix", () => {
    const atom = fc.constantFrom("a", "b", "/", ".", "[ab]", "\\d", "(a|b)", "(?:ab)", "\\.");
    const quant = fc.constantFrom("", "", "*", "+", "?", "{1,2}");
    const pattern = fc.array(fc.tuple(atom, quant).map(([a, q]) => a + q), { minLength: 1, maxLength: 6 }).map((p) => `^${p.join("")}`);
    fc.assert(
      fc.property(pattern, fc.stringMatching(/^[ab1/.]{0,8}$/), (p, s) => {
        if (new RegExp(p).test(s)) expect(s.startsWith(prefixOf(p))).toBe(true);
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
    ["a".repeat(257), "longer than 256"],
    ["", "empty"],
  ])("refuses %s", (pattern, message) => {
    const c = checkPattern(pattern);
    expect(c.ok).toBe(false);
    expect(c.ok ? "" : c.message).toContain(message);
  });
});
