/**
 * Secondary keys from Vary (RFC 9111 §4.1): which names, how the request's values
 * are compared, and that variants never meet when their requests differ.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { acceptEncodingBucket, admitVariant, indexSeconds, variantId, variantKey, varyNames, type VariantMark } from "../../src/policy/vary";

const names = (vary: string | null) => varyNames(new Headers(vary === null ? {} : { vary }));

describe("varyNames", () => {
  it.each<[string, string | null, string[] | null]>([
    ["no Vary: null", null, null],
    ["an empty Vary names nothing: null", "", null],
    ["only commas name nothing: null", " , ,", null],
    ["one name, lower-cased (field names are case-insensitive, RFC 9110 §5.1)", "Accept-Encoding", ["accept-encoding"]],
    ["several, sorted", "User-Agent, Accept-Language,accept", ["accept", "accept-language", "user-agent"]],
    ["duplicates in any case once", "Accept, accept, ACCEPT", ["accept"]],
    ["§4.1 '*' is kept for the caller to refuse", "Accept, *", ["*", "accept"]],
  ])("%s", (_name, vary, expected) => {
    expect(names(vary)).toEqual(expected);
  });

  it("Vary split over several field lines reads as one list (RFC 9110 §5.3)", () => {
    const h = new Headers();
    h.append("vary", "Accept-Language");
    h.append("vary", "Accept-Encoding");
    expect(varyNames(h)).toEqual(["accept-encoding", "accept-language"]);
  });
});

describe("acceptEncodingBucket", () => {
  it.each<[string, string]>([
    ["gzip, deflate, br", "br"],
    ["br", "br"],
    ["BR;q=1.0, gzip", "br"],
    ["gzip, deflate", "gzip"],
    ["GZIP", "gzip"],
    ["deflate", "identity"],
    ["identity", "identity"],
    ["", "identity"],
    ["brotli", "identity"],
    ["gzipped", "identity"],
    ["x-gzip", "gzip"], // RFC 9110 §8.4.1.3: x-gzip is gzip
    ["zstd, br, gzip", "br"],
  ])("%j → %s", (value, expected) => {
    expect(acceptEncodingBucket(value)).toBe(expected);
  });
});

describe("variantKey (§4.1)", () => {
  const key = (headers: Record<string, string>, vary = ["accept-language"], epoch = 1) =>
    variantKey("https://x.test/p", epoch, vary, new Headers(headers));

  it("is the primary key, the index epoch and the named values", () => {
    expect(key({ "accept-language": "en" })).toBe('https://x.test/p\nvary@1:[["accept-language","en"]]');
  });

  it("§4.1 an absent header is not the same as an empty one", () => {
    expect(key({})).toBe('https://x.test/p\nvary@1:[["accept-language",null]]');
    expect(key({ "accept-language": "" })).toBe('https://x.test/p\nvary@1:[["accept-language",""]]');
  });

  it("§4.1 values are compared after folding whitespace", () => {
    const custom = (v: string) => key({ "x-custom": v }, ["x-custom"]);
    expect(custom("a,  b")).toBe(custom("a, b"));
    expect(custom("a,\tb")).toBe(custom("a, b"));
    expect(custom("a  b")).toBe(custom("a b"));
    expect(custom("a b")).not.toBe(custom("ab"));
  });

  it("§4.1 a header we know nothing of is read as a list: whitespace around its delimiters does not count, order and quotes do", () => {
    const custom = (v: string) => key({ "x-custom": v }, ["x-custom"]);
    expect(custom("a,b")).toBe(custom("a, b"));
    expect(custom(" a ,b ,, ")).toBe(custom("a, b"));
    expect(custom("a, b")).not.toBe(custom("b, a"));
    expect(custom('"a, b"')).not.toBe(custom('"a,b"'));
    expect(custom('"a,b", c')).toBe(custom('"a,b",c'));
  });

  it("§4.1 fields known not to be lists keep their commas as written", () => {
    expect(key({ cookie: "a=1,2" }, ["cookie"])).not.toBe(key({ cookie: "a=1, 2" }, ["cookie"]));
    const ims = (v: string) => key({ "if-modified-since": v }, ["if-modified-since"]);
    expect(ims("Sun,06 Nov 1994 08:49:37 GMT")).not.toBe(ims("Sun, 06 Nov 1994 08:49:37 GMT"));
  });

  it("§4.1 values keep their case (only names are case-insensitive), Accept-Language's tags aside", () => {
    expect(key({ "x-custom": "EN" }, ["x-custom"])).not.toBe(key({ "x-custom": "en" }, ["x-custom"]));
    expect(key({ "accept-language": "EN" })).toBe(key({ "accept-language": "en" }));
  });

  it("§4.1 list headers: the whitespace around members and empty members do not count", () => {
    const accept = (v: string) => key({ accept: v }, ["accept"]);
    expect(accept("text/html,application/json")).toBe(accept("text/html , application/json"));
    expect(accept(" text/html,\t,application/json ")).toBe(accept("text/html, application/json"));
    expect(accept("text/html, application/json")).not.toBe(accept("application/json, text/html"));
    expect(accept("text/html")).not.toBe(accept("text/plain"));
  });

  it("§4.1 Accept-Language: one variant per meaning", () => {
    const al = (v: string) => key({ "accept-language": v });
    expect(al("en-US,fr;q=0.5")).toBe(al("FR;q=0.50 , en-us"));
    expect(al("en, fr")).toBe(al("fr, en"));
    expect(al("en;q=1.0")).toBe(al("en"));
    expect(al("en, fr;q=0.5")).not.toBe(al("fr, en;q=0.5"));
    expect(al("en")).not.toBe(al("en-GB"));
    expect(al("en, fr;q=0")).not.toBe(al("en"));
    expect(al("en;q=2")).not.toBe(al("en"));
    expect(al("en")).toBe('https://x.test/p\nvary@1:[["accept-language","en"]]');
  });

  it("buckets Accept-Encoding, so browsers of one class share a variant", () => {
    const ae = (v: string) => key({ "accept-encoding": v }, ["accept-encoding"]);
    expect(ae("gzip, deflate, br")).toBe(ae("br, gzip"));
    expect(ae("gzip, deflate, br")).toBe('https://x.test/p\nvary@1:[["accept-encoding","br"]]');
    expect(ae("gzip")).not.toBe(ae("br"));
    expect(key({}, ["accept-encoding"])).toBe('https://x.test/p\nvary@1:[["accept-encoding",null]]');
  });

  it("another epoch is another key, so variants of an older index are never found", () => {
    expect(key({ "accept-language": "en" }, undefined, 2)).not.toBe(key({ "accept-language": "en" }, undefined, 1));
  });

  it("never gives two different requests the same variant, and a value cannot forge another dimension", () => {
    const value = fc.option(fc.constantFrom("", "en", "de", "a, b", '"', '\\"', '"],["x","y', "é"), { nil: null });
    const request = fc.record({ a: value, b: value });
    const vary = ["x-a", "x-b"];
    const headersOf = ({ a, b }: { a: string | null; b: string | null }) => {
      const h = new Headers();
      if (a !== null) h.set("x-a", a);
      if (b !== null) h.set("x-b", b);
      return h;
    };
    fc.assert(
      fc.property(request, request, (r1, r2) => {
        const same = r1.a === r2.a && r1.b === r2.b;
        expect(variantKey("p", 1, vary, headersOf(r1)) === variantKey("p", 1, vary, headersOf(r2))).toBe(same);
      }),
      { numRuns: 500 },
    );
  });
});

// Issue 20: maxVariants counts distinct variants whose copy may still be kept, not stores.
describe("admitVariant", () => {
  const NOW = 1_000_000;
  // A copy kept 100 s is marked for 150 s: rewritten once it would end before the copy.
  const admit = (marks: VariantMark[], id: string, cap = 2, refresh = false, now = NOW) => admitVariant(marks, id, now, 100, cap, refresh);

  it("a first variant is listed, marked half as long again as its copy is kept", () => {
    expect(admit([], "a")).toEqual({ store: true, marks: [["a", NOW + 150]] });
  });

  it("a listed variant stored again costs nothing and needs no index write while its mark outlasts the copy", () => {
    expect(admit([["a", NOW + 100], ["b", NOW + 150]], "a")).toEqual({ store: true, marks: null });
  });

  it("a listed variant whose mark would end before the new copy gets a new mark; the others are kept", () => {
    expect(admit([["a", NOW + 99], ["b", NOW + 150]], "a")).toEqual({ store: true, marks: [["a", NOW + 150], ["b", NOW + 150]] });
  });

  it("at the cap a listed variant is stored, a new one is not", () => {
    const full: VariantMark[] = [["a", NOW + 120], ["b", NOW + 120]];
    expect(admit(full, "b")).toEqual({ store: true, marks: null });
    expect(admit(full, "c")).toEqual({ store: false });
  });

  it("a refresh of a stored copy the index does not list is never refused, and leaves the full index as it is", () => {
    expect(admit([["a", NOW + 120], ["b", NOW + 120]], "c", 2, true)).toEqual({ store: true, marks: null });
    expect(admit([["a", NOW + 120]], "c", 2, true)).toEqual({ store: true, marks: [["a", NOW + 120], ["c", NOW + 150]] });
  });

  it("expired marks free their slot and are dropped when the index is written", () => {
    expect(admit([["a", NOW], ["b", NOW + 120]], "c")).toEqual({ store: true, marks: [["b", NOW + 120], ["c", NOW + 150]] });
  });

  it("a cap lowered below what is listed keeps the listed variants and refuses new ones", () => {
    const marks: VariantMark[] = [["a", NOW + 120], ["b", NOW + 120], ["c", NOW + 120]];
    expect(admit(marks, "c", 1)).toEqual({ store: true, marks: null });
    expect(admit(marks, "d", 1)).toEqual({ store: false });
  });

  it("over any stores, a listed variant is never refused and no more than `cap` live variants are listed", () => {
    const store = fc.record({ id: fc.constantFrom("a", "b", "c", "d", "e"), wait: fc.integer({ min: 0, max: 200 }), refresh: fc.boolean() });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(store, { maxLength: 40 }), (cap, stores) => {
        let marks: VariantMark[] = [];
        let now = NOW;
        for (const { id, wait, refresh } of stores) {
          now += wait;
          const listed = marks.some(([m, until]) => m === id && until > now);
          const got = admitVariant(marks, id, now, 100, cap, refresh);
          if (listed || refresh) expect(got.store).toBe(true);
          if (got.store && got.marks) marks = got.marks;
          expect(marks.filter(([, until]) => until > now).length).toBeLessThanOrEqual(cap);
          // A stored copy is kept 100 s: its index must be kept at least as long.
          if (got.store && (listed || got.marks)) expect(indexSeconds(marks, now)).toBeGreaterThanOrEqual(100);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("indexSeconds", () => {
  it("is how long the last mark has to run, 0 for none", () => {
    expect(indexSeconds([["a", 1_100], ["b", 1_250]], 1_000)).toBe(250);
    expect(indexSeconds([], 1_000)).toBe(0);
    expect(indexSeconds([["a", 900]], 1_000)).toBe(0);
  });
});

describe("variantId", () => {
  it("is 12 hex digits of the variant key's SHA-256: the same for one key, apart for two", async () => {
    const en = variantKey("https://x.test/p", 1, ["accept-language"], new Headers({ "accept-language": "en" }));
    const de = variantKey("https://x.test/p", 1, ["accept-language"], new Headers({ "accept-language": "de" }));
    expect(await variantId(en)).toMatch(/^[0-9a-f]{12}$/);
    expect(await variantId(en)).toBe(await variantId(en));
    expect(await variantId(en)).not.toBe(await variantId(de));
  });
});
