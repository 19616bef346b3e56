/**
 * Accept-Language read (RFC 9110 §12.5.4, §12.4.2; RFC 4647 §2.1) and written in
 * its canonical spelling.
 */
import { describe, expect, it } from "vitest";
import { normalizeAcceptLanguage, parseAcceptLanguage } from "../../src/policy/accept-language";

describe("parseAcceptLanguage", () => {
  it.each<[string, string, { tag: string; q: number }[] | null]>([
    ["tags lower-cased, weights read", "en-US, fr;q=0.5", [{ tag: "en-us", q: 1 }, { tag: "fr", q: 0.5 }]],
    ["the wildcard", "*;q=0.1", [{ tag: "*", q: 0.1 }]],
    ["OWS around ';' and Q in capitals", "de ; Q=0.7", [{ tag: "de", q: 0.7 }]],
    ["empty members do not count", ", en,,", [{ tag: "en", q: 1 }]],
    ["q=0: not acceptable, kept", "en, fr;q=0", [{ tag: "en", q: 1 }, { tag: "fr", q: 0 }]],
    ["an empty value is an empty list", "", []],
    ["a weight over 1 is malformed", "en;q=1.5", null],
    ["more than three decimals is malformed", "en;q=0.1234", null],
    ["spaces around '=' are malformed", "en;q = 0.5", null],
    ["another parameter is malformed", "en;level=1", null],
    ["a subtag longer than 8 is malformed", "en-abcdefghi", null],
    ["an underscore is malformed", "en_US", null],
  ])("%s", (_name, value, expected) => {
    expect(parseAcceptLanguage(value)).toEqual(expected);
  });
});

describe("normalizeAcceptLanguage", () => {
  it.each<[string, string, string | null]>([
    ["tag case", "EN-us", "en-us"],
    ["spacing", " en ,fr ; q=0.5 ", "en, fr;q=0.5"],
    ["by falling weight, whatever the order written", "fr;q=0.5, en", "en, fr;q=0.5"],
    ["equal weights in tag order", "fr, en, de", "de, en, fr"],
    ["q=1 left out", "en;q=1.000", "en"],
    ["weights in their shortest form", "en;q=0.50, fr;q=0.0", "en;q=0.5, fr;q=0"],
    ["repeats dropped", "en, EN, en", "en"],
    ["the wildcard sorts like any range", "*;q=0.1, en", "en, *;q=0.1"],
    ["a malformed value: null", "en;q=x", null],
  ])("%s", (_name, value, expected) => {
    expect(normalizeAcceptLanguage(value)).toBe(expected);
  });

  it("is idempotent and keeps the preferences", () => {
    for (const v of ["en-US,en;q=0.9,fr;q=0.8,*;q=0.1", "de, EN;q=0.5, fr;q=0", "zh-Hant-TW, zh;q=0.3"]) {
      const once = normalizeAcceptLanguage(v)!;
      expect(normalizeAcceptLanguage(once)).toBe(once);
      const pref = (x: string) => parseAcceptLanguage(x)!.map((r) => `${r.tag}=${r.q}`).sort();
      expect(pref(once)).toEqual(pref(v));
    }
  });
});
