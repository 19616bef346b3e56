/**
 * When a 304 to our own conditional request may refresh the stored response
 * (RFC 9111 §4.3.4), and what it changes.
 */
import { describe, expect, it } from "vitest";
import { acceptsNotModified, updatedHeaders, validatorsOf } from "../../src/policy/not-modified";

const LM = "Mon, 01 Jan 2024 00:00:00 GMT";

describe("validatorsOf (§4.3.1)", () => {
  it("sends the stored ETag and Last-Modified as conditionals", () => {
    expect(validatorsOf(new Headers({ etag: '"v1"', "last-modified": LM }))).toEqual([["if-none-match", '"v1"'], ["if-modified-since", LM]]);
    expect(validatorsOf(new Headers({ "content-type": "text/plain" }))).toEqual([]);
  });
});

describe("acceptsNotModified (§4.3.4)", () => {
  const sent = (stored: Record<string, string>) => validatorsOf(new Headers(stored));
  it.each<[string, Record<string, string>, Record<string, string>, boolean]>([
    ["the same strong ETag", { etag: '"v1"' }, { etag: '"v1"' }, true],
    ["another strong ETag: it selects a response we do not hold", { etag: '"v1"' }, { etag: '"v2"' }, false],
    ["a strong ETag against a weak stored one (strong comparison fails)", { etag: 'W/"v1"' }, { etag: '"v1"' }, false],
    ["a strong ETag against the one weakened for the stored coding (nginx gzip on)", { etag: 'W/"v1"', "content-encoding": "gzip" }, { etag: '"v1"' }, true],
    ["not another strong ETag against a weakened one", { etag: 'W/"v1"', "content-encoding": "gzip" }, { etag: '"v2"' }, false],
    ["a weak ETag that matches weakly", { etag: '"v1"' }, { etag: 'W/"v1"' }, true],
    ["a weak ETag that does not match", { etag: 'W/"v1"' }, { etag: 'W/"v2"' }, false],
    ["an ETag when we hold none (asked by date)", { "last-modified": LM }, { etag: '"v1"' }, false],
    ["no validator at all: the one response we asked about", { etag: '"v1"' }, {}, true],
    ["the same Last-Modified", { "last-modified": LM }, { "last-modified": LM }, true],
    ["another Last-Modified", { "last-modified": LM }, { "last-modified": "Tue, 02 Jan 2024 00:00:00 GMT" }, false],
  ])("%s", (_name, stored, got, expected) => {
    expect(acceptsNotModified(sent(stored), new Headers(stored), new Headers(got))).toBe(expected);
  });

  it("never when we did not ask conditionally", () => {
    expect(acceptsNotModified([], new Headers(), new Headers())).toBe(false);
  });
});

describe("updatedHeaders (§4.3.4)", () => {
  it("keeps a weakened ETag weak: the 304's strong one names the unencoded bytes", () => {
    const stored = new Headers({ etag: 'W/"v1"', "content-encoding": "gzip", "cache-control": "max-age=1" });
    const updated = updatedHeaders(stored, new Headers({ etag: '"v1"', "cache-control": "max-age=60" }));
    expect(updated.get("etag")).toBe('W/"v1"');
    expect(updated.get("cache-control")).toBe("max-age=60");
  });

  it("replaces stored fields with the 304's, all but the framing ones", () => {
    const stored = new Headers({ etag: '"v1"', "content-length": "5", "x-a": "old", "x-b": "kept" });
    const got = new Headers({ etag: '"v1"', "content-length": "0", "x-a": "new" });
    expect([...updatedHeaders(stored, got)]).toEqual([["content-length", "5"], ["etag", '"v1"'], ["x-a", "new"], ["x-b", "kept"]]);
  });
});
