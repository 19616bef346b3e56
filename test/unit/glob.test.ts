import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlobs, hasWildcard } from "../../src/rules/glob";

describe("compileGlobs", () => {
  it("matches nothing when the list is empty", () => {
    const m = compileGlobs([]);
    expect(m.globs).toEqual([]);
    expect(m.test("")).toBe(false);
    expect(m.test("anything")).toBe(false);
  });

  it("matches literal names exactly, not as substrings or prefixes", () => {
    const m = compileGlobs(["fbclid", "gclid"]);
    expect(["fbclid", "gclid"].map(m.test)).toEqual([true, true]);
    expect(["fbclid2", "xgclid", "gcli", "", "FBCLID"].map(m.test)).toEqual([false, false, false, false, false]);
  });

  it("reads * as any run of characters, including none", () => {
    const m = compileGlobs(["utm_*", "*_session", "a*b*c"]);
    expect(["utm_", "utm_source", "x_session", "_session", "abc", "a-b-c", "aXXbYYc"].map(m.test)).toEqual(Array(7).fill(true));
    expect(["utm", "xutm_a", "session", "acb", "ab"].map(m.test)).toEqual(Array(5).fill(false));
  });

  it("reads ? as exactly one character", () => {
    const m = compileGlobs(["wp-settings-?"]);
    expect(m.test("wp-settings-1")).toBe(true);
    expect(m.test("wp-settings-")).toBe(false);
    expect(m.test("wp-settings-12")).toBe(false);
  });

  it("takes every other character literally, regular-expression ones included", () => {
    const m = compileGlobs(["a.b", "c+d", "(e)", "[f]", "g|h", "^i$", "j\\k", "l{1}"]);
    expect(["a.b", "c+d", "(e)", "[f]", "g|h", "^i$", "j\\k", "l{1}"].map(m.test)).toEqual(Array(8).fill(true));
    expect(["axb", "ccd", "e", "f", "g", "h", "i", "l"].map(m.test)).toEqual(Array(8).fill(false));
  });

  it("is case-sensitive unless asked (cookie and query names are, header names are not)", () => {
    expect(compileGlobs(["PHPSESSID"]).test("phpsessid")).toBe(false);
    const headers = compileGlobs(["X-Debug-*"], { caseInsensitive: true });
    expect(headers.test("x-debug-token")).toBe(true);
    expect(headers.test("X-DEBUG-A")).toBe(true);
  });

  it("keeps the globs it was given, frozen", () => {
    const source = ["a*", "b"];
    const m = compileGlobs(source);
    source.push("c");
    expect(m.globs).toEqual(["a*", "b"]);
    expect(Object.isFrozen(m.globs)).toBe(true);
  });

  it("agrees with a literal comparison for names without wildcards (property)", () => {
    const literal = fc.string().filter((s) => !hasWildcard(s));
    fc.assert(
      fc.property(literal, fc.string(), (glob, name) => {
        const m = compileGlobs([glob]);
        expect(m.test(glob)).toBe(true);
        expect(m.test(name)).toBe(name === glob);
      }),
    );
  });

  it("matches every name with *, and prefixes with prefix* (property)", () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !hasWildcard(s)), fc.string(), (prefix, rest) => {
        expect(compileGlobs(["*"]).test(rest)).toBe(true);
        expect(compileGlobs([`${prefix}*`]).test(prefix + rest)).toBe(true);
      }),
    );
  });
});

describe("hasWildcard", () => {
  it("is true for * and ?", () => {
    expect(["a*", "?", "plain"].map(hasWildcard)).toEqual([true, true, false]);
  });
});
