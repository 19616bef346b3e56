/**
 * Cache-Control parsing (RFC 9111 §5.2), targeted fields (RFC 9213 §2.1), the
 * request directives we may honour (§5.2.1, §5.4) and purge tags read from
 * response headers: the header parsing the freshness rules stand on.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deltaSeconds, governingDirectives, parseDirectives, parseTargetedField } from "../../src/policy/cache-control";
import { requestWantsValidation } from "../../src/policy/request-directives";
import { MAX_TAG_LENGTH, MAX_TAGS, responseTags } from "../../src/policy/tags";

const parsed = (value: string | null) => Object.fromEntries(parseDirectives(value));

describe("parseDirectives", () => {
  it.each<[string, string | null, Record<string, string | true>]>([
    ["absent field: nothing", null, {}],
    ["empty field: nothing", "", {}],
    ["§5.2 a directive without argument is true", "no-store", { "no-store": true }],
    ["§5.2 token arguments", "max-age=60, s-maxage=120", { "max-age": "60", "s-maxage": "120" }],
    ["§5.2 names are case-insensitive, arguments keep their case", "Max-Age=60, NO-CACHE, X-Ext=AbC", { "max-age": "60", "no-cache": true, "x-ext": "AbC" }],
    ["§5.2 whitespace around names, = and commas is optional", "  public ,max-age = 60 ,\tno-transform  ", { public: true, "max-age": "60", "no-transform": true }],
    ["§5.2 a quoted argument is unquoted", 'max-age="60"', { "max-age": "60" }],
    ["§5.2 a comma inside a quoted argument does not split", 'no-cache="set-cookie, x-foo", max-age=5', { "no-cache": "set-cookie, x-foo", "max-age": "5" }],
    ["§5.2.2.7 a qualified private keeps its field list", 'private="authorization,set-cookie", public', { private: "authorization,set-cookie", public: true }],
    ["RFC 9110 §5.6.4 quoted-pair is unescaped", 'ext="a\\"b\\\\c", max-age=1', { ext: 'a"b\\c', "max-age": "1" }],
    ["§4.2.1 duplicates: the first occurrence wins", "max-age=10, max-age=20, MAX-AGE=30", { "max-age": "10" }],
    ["§5.2.3 unknown extensions are kept for callers to ignore", "community=\"UCI\", foo", { community: "UCI", foo: true }],
    ["a trailing comma is harmless", "no-store,", { "no-store": true }],
    ["an empty argument is kept as the empty string", "max-age=", { "max-age": "" }],
    // RFC 9110 §5.6.1.2: a recipient MUST parse and ignore a reasonable number of empty list elements.
    ["RFC 9110 §5.6.1.2 empty list elements are ignored (leading)", ", no-store", { "no-store": true }],
    ["RFC 9110 §5.6.1.2 empty list elements are ignored (middle)", "max-age=60, , no-store", { "max-age": "60", "no-store": true }],
    ["RFC 9110 §5.6.1.2 empty list elements are ignored (several)", "public,,, private", { public: true, private: true }],
  ])("%s", (_name, value, expected) => {
    expect(parsed(value)).toEqual(expected);
  });

  it("never throws and always yields lower-case names, whatever the field holds", () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        for (const name of parseDirectives(value).keys()) {
          expect(name).toBe(name.toLowerCase());
          expect(name).not.toMatch(/[\s,=]/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("finds a directive after any well-formed prefix of other directives (no directive is swallowed)", () => {
    const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/).filter((t) => t !== "no-store");
    const directive = fc.oneof(
      token,
      fc.tuple(token, fc.stringMatching(/^[0-9a-z]{1,6}$/)).map(([n, v]) => `${n}=${v}`),
      fc.tuple(token, fc.stringMatching(/^[ ,;=a-z]{0,8}$/)).map(([n, v]) => `${n}="${v}"`),
    );
    fc.assert(
      fc.property(fc.array(directive, { maxLength: 6 }), fc.constantFrom(",", ", ", " ,", " , "), (before, sep) => {
        expect(parseDirectives([...before, "no-store"].join(sep)).get("no-store")).toBe(true);
      }),
    );
  });
});

describe("deltaSeconds (§1.2.2)", () => {
  it.each<[string, string, number | null]>([
    ["a plain number", "max-age=60", 60],
    ["zero", "max-age=0", 0],
    ["leading zeros", "max-age=007", 7],
    ["quoted form is accepted (§5.2.2.1 recipients SHOULD)", 'max-age="120"', 120],
    ["§1.2.2 the largest value kept exactly", "max-age=2147483648", 2 ** 31],
    ["§1.2.2 a larger value is taken as 2^31", "max-age=2147483649", 2 ** 31],
    ["§1.2.2 a huge value is taken as 2^31", "max-age=99999999999999999999999999", 2 ** 31],
    ["negative is malformed", "max-age=-1", null],
    ["fractional is malformed", "max-age=1.5", null],
    ["a unit is malformed", "max-age=60s", null],
    ["letters are malformed", "max-age=abc", null],
    ["an empty argument is malformed", "max-age=", null],
    ["no argument at all", "max-age", null],
    ["absent", "no-store", null],
    ["an exponent is malformed", "max-age=1e3", null],
    ["hex is malformed", "max-age=0x10", null],
  ])("%s: %s → %s", (_name, field, expected) => {
    expect(deltaSeconds(parseDirectives(field), "max-age")).toBe(expected);
  });

  it("is never negative, never above 2^31, and an integer, for any digits", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,40}$/), (digits) => {
        const v = deltaSeconds(parseDirectives(`s-maxage=${digits}`), "s-maxage");
        expect(v).not.toBeNull();
        expect(Number.isInteger(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(2 ** 31);
        if (digits.length < 10) expect(v).toBe(Number(digits));
      }),
    );
  });
});

describe("governingDirectives (RFC 9213 §2.1)", () => {
  const govern = (h: Record<string, string>) => {
    const { field, directives } = governingDirectives(new Headers(h));
    return { field, directives: Object.fromEntries(directives) };
  };
  const all = {
    "cloudflare-cdn-cache-control": "max-age=10",
    "cdn-cache-control": "max-age=20",
    "cache-control": "max-age=30",
  };

  it.each<[string, Record<string, string>, string, Record<string, string | true>]>([
    ["§2.1 Cloudflare-CDN-Cache-Control first", all, "cloudflare-cdn-cache-control", { "max-age": "10" }],
    ["§2.1 then CDN-Cache-Control", { "cdn-cache-control": "max-age=20", "cache-control": "max-age=30" }, "cdn-cache-control", { "max-age": "20" }],
    ["§2.1 then Cache-Control", { "cache-control": "max-age=30" }, "cache-control", { "max-age": "30" }],
    ["no field at all: an empty Cache-Control", {}, "cache-control", {}],
    ["§2.1 an empty Cloudflare-CDN-Cache-Control is ignored", { ...all, "cloudflare-cdn-cache-control": "" }, "cdn-cache-control", { "max-age": "20" }],
    ["§2.1 empty targeted fields are all ignored", { ...all, "cloudflare-cdn-cache-control": "", "cdn-cache-control": "" }, "cache-control", { "max-age": "30" }],
    ["§2.1 a blank targeted field is empty", { "cdn-cache-control": "   ", "cache-control": "no-store" }, "cache-control", { "no-store": true }],
    ["§2.1 the targeted field replaces Cache-Control wholesale (no merging)", { "cdn-cache-control": "max-age=60", "cache-control": "no-store, private" }, "cdn-cache-control", { "max-age": "60" }],
    ["§2.1 field names are case-insensitive", { "CDN-Cache-Control": "no-store", "cache-control": "max-age=60" }, "cdn-cache-control", { "no-store": true }],
    ["§2.1 a targeted field that does not parse is ignored", { "cdn-cache-control": "max-age=60,,", "cache-control": "max-age=30" }, "cache-control", { "max-age": "30" }],
    ["§2.1 a wrong-typed member: the next targeted field decides", { "cloudflare-cdn-cache-control": 'max-age="10"', "cdn-cache-control": "max-age=20" }, "cdn-cache-control", { "max-age": "20" }],
    ["§2.1 a field of unknown directives still governs", { "cdn-cache-control": "none", "cache-control": "max-age=30" }, "cdn-cache-control", { none: true }],
  ])("%s", (_name, headers, field, directives) => {
    expect(govern(headers)).toEqual({ field, directives });
  });
});

describe("parseTargetedField (RFC 9213 §2.1, RFC 8941 Dictionaries)", () => {
  const parsed = (v: string) => {
    const d = parseTargetedField(v);
    return d && Object.fromEntries(d);
  };
  it.each<[string, string, Record<string, string | true> | null]>([
    ["Integers and Booleans", "max-age=60, no-store, must-revalidate", { "max-age": "60", "no-store": true, "must-revalidate": true }],
    ["no spaces needed", "max-age=60,public", { "max-age": "60", public: true }],
    ["parameters are ignored", "max-age=60;x=1, public;y", { "max-age": "60", public: true }],
    ["a Boolean false is an absent directive", "no-store=?0, max-age=60", { "max-age": "60" }],
    ["private with field names (a String)", 'private="set-cookie", max-age=60', { private: "set-cookie", "max-age": "60" }],
    ["no-cache with a Token", "no-cache=set-cookie", { "no-cache": "set-cookie" }],
    ["unknown directives of any type are kept and ignored later", 'x="a", y=1.5, z=(a b), none', { x: "a", y: "1.5", z: true, none: true }],
    ["the last of duplicated keys wins (RFC 8941 §4.2.2)", "max-age=10, max-age=20", { "max-age": "20" }],
    ["empty: no directives", "", {}],
    ["max-age as a String is the wrong type", 'max-age="3600"', null],
    ["max-age as a Token is the wrong type", "max-age=a", null],
    ["max-age as a Decimal is the wrong type", "max-age=1.0", null],
    ["a negative max-age is not delta-seconds", "max-age=-1", null],
    ["s-maxage as a String is the wrong type", 's-maxage="60"', null],
    ["stale-if-error as a Boolean is the wrong type", "stale-if-error", null],
    ["no-store with an Integer is the wrong type", "no-store=1", null],
    ["public with a String is the wrong type", 'public="yes"', null],
    ["an upper-case key does not parse", "Max-Age=60", null],
    ["a Cache-Control-style quoted list does not parse", 'no-cache="a", private="b, c"x', null],
    ["a trailing comma does not parse", "max-age=60,", null],
    ["an Integer of more than 15 digits does not parse", "max-age=9999999999999999", null],
    ["a member of the wrong type spoils the whole field", "public, max-age=a", null],
  ])("%s", (_name, value, expected) => {
    expect(parsed(value)).toEqual(expected);
  });
});

describe("requestWantsValidation (§5.2.1, §5.4)", () => {
  it.each<[string, Record<string, string>, boolean]>([
    ["no directives", {}, false],
    ["§5.2.1.4 no-cache", { "cache-control": "no-cache" }, true],
    ["§5.2.1.4 no-cache, any case, among others", { "cache-control": "max-stale=10, No-Cache" }, true],
    ["§5.2.1.1 max-age=0", { "cache-control": "max-age=0" }, true],
    ["§5.2.1.1 a positive max-age does not force validation here", { "cache-control": "max-age=5" }, false],
    ["§5.2.1.5 no-store is not a request to validate", { "cache-control": "no-store" }, false],
    ["§5.4 Pragma: no-cache when there is no Cache-Control", { pragma: "no-cache" }, true],
    ["§5.4 Pragma: no-cache in a list", { pragma: "x-foo, no-cache" }, true],
    ["§5.4 Pragma is ignored when Cache-Control is present", { pragma: "no-cache", "cache-control": "max-age=60" }, false],
    ["§5.4 another Pragma value", { pragma: "no-cache-please" }, false],
  ])("%s", (_name, headers, expected) => {
    expect(requestWantsValidation(new Headers(headers))).toBe(expected);
  });
});

describe("responseTags", () => {
  it.each<[string, Record<string, string>, string[]]>([
    ["no tag headers", {}, []],
    ["X-Cache-Tag is comma-separated", { "x-cache-tag": "a, b,c" }, ["a", "b", "c"]],
    ["Surrogate-Key is space-separated", { "surrogate-key": "x  y\tz" }, ["x", "y", "z"]],
    ["both are merged, X-Cache-Tag first, duplicates once", { "x-cache-tag": "a,b", "surrogate-key": "b c a" }, ["a", "b", "c"]],
    ["empty items are dropped", { "x-cache-tag": ",, a ,", "surrogate-key": "  " }, ["a"]],
    ["tags keep their case", { "x-cache-tag": "Product-1,product-1" }, ["Product-1", "product-1"]],
  ])("%s", (_name, headers, expected) => {
    expect(responseTags(new Headers(headers))).toEqual(expected);
  });

  it(`drops tags longer than ${MAX_TAG_LENGTH} characters and keeps at most ${MAX_TAGS}`, () => {
    const long = "x".repeat(MAX_TAG_LENGTH + 1);
    const exact = "y".repeat(MAX_TAG_LENGTH);
    expect(responseTags(new Headers({ "x-cache-tag": `${long},${exact}` }))).toEqual([exact]);
    const many = Array.from({ length: MAX_TAGS + 10 }, (_, i) => `t${i}`);
    expect(responseTags(new Headers({ "surrogate-key": many.join(" ") }))).toEqual(many.slice(0, MAX_TAGS));
  });
});
