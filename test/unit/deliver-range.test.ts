/**
 * The two pure decisions of delivery: which byte range a Range header asks for
 * (RFC 9110 §14.1.2) and whether a conditional request gets a 304 (RFC 9110 §13.1,
 * §13.2.2), as tables.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { notModified, parseRange } from "../../src/pipeline/deliver";

describe("parseRange (RFC 9110 §14.1.2), for a 10-byte representation unless said", () => {
  it.each<[string, string | null, number, ReturnType<typeof parseRange>]>([
    ["no Range: the whole representation", null, 10, null],
    ["§14.1.2 the first byte: bytes=0-0", "bytes=0-0", 10, { start: 0, end: 0 }],
    ["§14.1.2 the last byte: bytes=-1", "bytes=-1", 10, { start: 9, end: 9 }],
    ["§14.1.2 a middle slice", "bytes=2-5", 10, { start: 2, end: 5 }],
    ["§14.1.2 an open-ended range", "bytes=5-", 10, { start: 5, end: 9 }],
    ["§14.1.2 the last position exactly", "bytes=0-9", 10, { start: 0, end: 9 }],
    ["§14.1.2 a last-pos past the end is the end", "bytes=3-999", 10, { start: 3, end: 9 }],
    ["§14.1.2 a suffix larger than the representation: all of it", "bytes=-20", 10, { start: 0, end: 9 }],
    ["§14.1.2 a suffix of exactly the size", "bytes=-10", 10, { start: 0, end: 9 }],
    ["§14.1.1 a first-pos at the size is unsatisfiable", "bytes=10-", 10, "unsatisfiable"],
    ["§14.1.1 a first-pos beyond the size is unsatisfiable", "bytes=11-20", 10, "unsatisfiable"],
    ["§14.1.1 a zero-length suffix is unsatisfiable", "bytes=-0", 10, "unsatisfiable"],
    ["§14.1.1 a huge first-pos is unsatisfiable", "bytes=99999999999999999999-", 10, "unsatisfiable"],
    ["§14.1.1 a huge last-pos is the end", "bytes=0-99999999999999999999", 10, { start: 0, end: 9 }],
    ["§14.1 the unit is case-insensitive", "Bytes=1-2", 10, { start: 1, end: 2 }],
    ["§14.2 several ranges: the whole representation", "bytes=0-1,3-4", 10, null],
    ["§14.2 several ranges with spaces: the whole representation", "bytes=0-1, 3-4", 10, null],
    ["§14.2 another unit: the whole representation", "items=0-1", 10, null],
    ["§14.1.1 last-pos before first-pos is invalid: the whole representation", "bytes=5-2", 10, null],
    ["§14.1.1 no positions at all is invalid", "bytes=-", 10, null],
    ["§14.1.1 negative or non-numeric positions are invalid", "bytes=a-b", 10, null],
    ["§14.1.1 no '=' is invalid", "bytes 0-1", 10, null],
    ["§14.1.1 an empty Range is invalid", "", 10, null],
    // §14.1.2: "When a selected representation has zero length, the only satisfiable form of
    // range-spec in a GET request is a suffix-range with a non-zero suffix-length".
    ["§14.1.2 an empty representation: any first-pos is unsatisfiable", "bytes=0-0", 0, "unsatisfiable"],
    // ...but no Content-Range can describe it (§14.4: last-pos < first-pos is invalid), and
    // §14.2 lets a server ignore Range when the representation has no content: send it whole.
    ["§14.1.2, §14.2 an empty representation: a suffix range is the whole (empty) thing", "bytes=-5", 0, null],
  ])("%s: %j", (_name, value, size, expected) => {
    expect(parseRange(value, size)).toEqual(expected);
  });

  it("§14.4 a range it returns is always inside the representation and well formed", () => {
    const pos = fc.oneof(fc.constant(""), fc.nat({ max: 40 }).map(String));
    fc.assert(
      fc.property(pos, pos, fc.nat({ max: 30 }), (first, last, size) => {
        const r = parseRange(`bytes=${first}-${last}`, size);
        if (r === null || r === "unsatisfiable") return;
        expect(Number.isInteger(r.start) && Number.isInteger(r.end)).toBe(true);
        expect(r.start).toBeGreaterThanOrEqual(0);
        expect(r.end).toBeGreaterThanOrEqual(r.start);
        expect(r.end).toBeLessThan(size);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("notModified (RFC 9110 §13.1.1-§13.1.3, §13.2.2)", () => {
  const LM = "Mon, 15 Jan 2024 12:00:00 GMT";
  const EARLIER = "Mon, 15 Jan 2024 11:00:00 GMT";
  const LATER = "Mon, 15 Jan 2024 13:00:00 GMT";
  const stored = (h: Record<string, string> = {}) => new Headers({ etag: '"v1"', "last-modified": LM, ...h });

  it.each<[string, Record<string, string>, Headers, boolean]>([
    ["no conditionals: 200", {}, stored(), false],
    ["§13.1.2 the same strong tag", { "if-none-match": '"v1"' }, stored(), true],
    ["§13.1.2 another tag", { "if-none-match": '"v2"' }, stored(), false],
    ["§13.1.2 weak comparison: W/ on the request", { "if-none-match": 'W/"v1"' }, stored(), true],
    ["§13.1.2 weak comparison: W/ on the stored tag", { "if-none-match": '"v1"' }, stored({ etag: 'W/"v1"' }), true],
    ["§13.1.2 weak comparison: W/ on both", { "if-none-match": 'W/"v1"' }, stored({ etag: 'W/"v1"' }), true],
    ["§13.1.2 any member of the list", { "if-none-match": '"a", W/"v1", "b"' }, stored(), true],
    ["§13.1.2 no member of the list", { "if-none-match": '"a", "b"' }, stored(), false],
    ["§8.8.3 tags are case-sensitive", { "if-none-match": '"V1"' }, stored(), false],
    ["§13.1.2 a tag is not compared without its quotes", { "if-none-match": "v1" }, stored(), false],
    ["§13.1.2 '*' matches a stored representation", { "if-none-match": "*" }, stored(), true],
    ["§13.1.2 '*' matches a stored representation that has no ETag", { "if-none-match": "*" }, new Headers({ "last-modified": LM }), true],
    ["§13.1.2 a tag never matches a representation without one", { "if-none-match": '"v1"' }, new Headers({ "last-modified": LM }), false],
    // §8.8.3: etagc includes ',', so "a,b" is one valid entity tag.
    ["§8.8.3 an entity tag holding a comma", { "if-none-match": '"a,b"' }, stored({ etag: '"a,b"' }), true],
    ["§13.1.3 not modified since: Last-Modified earlier than the date", { "if-modified-since": LATER }, stored(), true],
    ["§13.1.3 not modified since: Last-Modified equal to the date", { "if-modified-since": LM }, stored(), true],
    ["§13.1.3 modified since: Last-Modified later than the date", { "if-modified-since": EARLIER }, stored(), false],
    ["§13.1.3 an invalid date is ignored", { "if-modified-since": "yesterday" }, stored(), false],
    ["§13.1.3 without Last-Modified, the stored Date stands in", { "if-modified-since": LATER }, new Headers({ date: LM }), true],
    ["§13.1.3 without Last-Modified or Date: cannot tell, 200", { "if-modified-since": LATER }, new Headers({ etag: '"v1"' }), false],
    ["§5.6.7 an If-Modified-Since in lower-case utc is not a date: ignored", { "if-modified-since": "Mon, 15 Jan 2024 13:00:00 utc" }, stored(), false],
    ["§5.6.7 an If-Modified-Since in the RFC 850 form is read", { "if-modified-since": "Monday, 15-Jan-24 13:00:00 GMT" }, stored(), true],
    ["§5.6.7 an If-Modified-Since in the asctime form is read", { "if-modified-since": "Mon Jan 15 13:00:00 2024" }, stored(), true],
    ["§5.6.7 an invalid Last-Modified is ignored: the stored Date stands in", { "if-modified-since": EARLIER }, new Headers({ "last-modified": "15 Jan 2024", date: LM }), false],
    ["§13.2.2 If-None-Match wins: no match, though not modified since", { "if-none-match": '"v2"', "if-modified-since": LATER }, stored(), false],
    ["§13.2.2 If-None-Match wins: a match, though modified since", { "if-none-match": '"v1"', "if-modified-since": EARLIER }, stored(), true],
  ])("%s", (_name, request, storedHeaders, expected) => {
    expect(notModified(new Headers(request), storedHeaders)).toBe(expected);
  });

  it("RFC 9111 §4.3.2 without Last-Modified or Date, the time it was stored stands in (whole seconds)", () => {
    const storedAt = Date.parse(LM) + 400;
    const none = new Headers({ etag: '"v1"' });
    expect(notModified(new Headers({ "if-modified-since": LM }), none, storedAt)).toBe(true);
    expect(notModified(new Headers({ "if-modified-since": EARLIER }), none, storedAt)).toBe(false);
  });
});
