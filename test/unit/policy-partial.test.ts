/** policy/partial.ts: range arithmetic, which pieces hold a range, when a set is complete, the bound (RFC 9111 §3.3, §3.4). */
import { describe, expect, it } from "vitest";
import {
  MAX_PIECE_BYTES,
  MAX_PIECES,
  admitPiece,
  complete,
  cover,
  parseContentRange,
  rangePlan,
  singleRange,
  strongValidator,
  type PieceMark,
} from "../../src/policy/partial";

const NOW = 1_000_000;
const live = (start: number, end: number): PieceMark => [start, end, NOW + 60];

describe("singleRange and parseContentRange", () => {
  it.each([
    ["bytes=0-99", "bytes=0-99"],
    [" bytes = 5 - ", "bytes=5-"],
    ["bytes=-500", "bytes=-500"],
    ["bytes=9-3", null],
    ["bytes=0-1,5-6", null],
    ["items=0-1", null],
    ["bytes=-", null],
  ])("%s → %s", (value, expected) => expect(singleRange(value)).toBe(expected));

  it.each([
    ["bytes 0-99/1000", { start: 0, end: 99, length: 1000 }],
    ["bytes 0-99/*", null],
    ["bytes 5-4/1000", null],
    ["bytes 0-1000/1000", null],
    ["bytes */1000", null],
  ])("Content-Range %s", (value, expected) => expect(parseContentRange(value)).toEqual(expected));
});

describe("strongValidator (RFC 9111 §3.4, RFC 9110 §8.8.2.2)", () => {
  const h = (fields: Record<string, string>) => new Headers(fields);
  it("a strong ETag; never a weak one, even beside Last-Modified", () => {
    expect(strongValidator(h({ etag: '"a"' }))).toBe('etag "a"');
    expect(strongValidator(h({ etag: 'W/"a"', "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT", date: "Tue, 02 Jan 2024 00:00:00 GMT" }))).toBeNull();
  });
  it("without an ETag, Last-Modified at least a second before Date", () => {
    expect(strongValidator(h({ "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT", date: "Mon, 01 Jan 2024 00:00:01 GMT" }))).toBe(`lm ${Date.UTC(2024, 0, 1)}`);
    expect(strongValidator(h({ "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT", date: "Mon, 01 Jan 2024 00:00:00 GMT" }))).toBeNull();
    expect(strongValidator(h({ "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" }))).toBeNull();
  });
});

describe("cover and complete", () => {
  it("takes the piece reaching furthest at each step", () => {
    const pieces = [live(0, 99), live(50, 300), live(100, 199)];
    expect(cover(pieces, { start: 10, end: 250 }, NOW)).toEqual([
      { piece: pieces[0], from: 10, to: 99 },
      { piece: pieces[1], from: 100, to: 250 },
    ]);
  });
  it("adjacent pieces join; a gap, or an expired piece, does not", () => {
    expect(cover([live(0, 9), live(10, 19)], { start: 5, end: 15 }, NOW)).toHaveLength(2);
    expect(cover([live(0, 9), live(11, 19)], { start: 5, end: 15 }, NOW)).toBeNull();
    expect(cover([[0, 19, NOW]], { start: 0, end: 1 }, NOW)).toBeNull();
  });
  it("a set is complete when its live pieces hold every byte", () => {
    expect(complete([live(0, 9), live(10, 19)], 20, NOW)).toBe(true);
    expect(complete([live(0, 9), live(10, 18)], 20, NOW)).toBe(false);
    expect(complete([live(0, 9), [10, 19, NOW - 1]], 20, NOW)).toBe(false);
  });
});

describe("admitPiece: the bound", () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => live(i * 10, i * 10 + 4));
  it(`at ${MAX_PIECES} live pieces the new one is refused and nothing is evicted`, () => {
    expect(admitPiece(many(MAX_PIECES - 1), live(1000, 1004), NOW)).toMatchObject({ store: true });
    expect(admitPiece(many(MAX_PIECES), live(1000, 1004), NOW)).toEqual({ store: false });
  });
  it("expired pieces and those the new one contains make room", () => {
    const expired = many(MAX_PIECES).map((p, i): PieceMark => (i === 0 ? [p[0], p[1], NOW] : p));
    expect(admitPiece(expired, live(1000, 1004), NOW)).toMatchObject({ store: true });
    const admitted = admitPiece(many(MAX_PIECES), live(0, 24), NOW);
    expect(admitted.store && admitted.pieces.length).toBe(MAX_PIECES - 2);
  });
  it(`at most ${MAX_PIECE_BYTES} bytes of pieces`, () => {
    expect(admitPiece([live(0, MAX_PIECE_BYTES - 2)], live(MAX_PIECE_BYTES - 1, MAX_PIECE_BYTES - 1), NOW)).toMatchObject({ store: true });
    expect(admitPiece([live(0, MAX_PIECE_BYTES - 1)], live(MAX_PIECE_BYTES, MAX_PIECE_BYTES), NOW)).toEqual({ store: false });
  });
});

describe("rangePlan", () => {
  const fits = () => true;
  it("no set: ask the origin for the range", () => expect(rangePlan(null, "bytes=0-9", NOW, fits)).toEqual({ kind: "forward" }));
  it("held by the pieces: served, a suffix resolved against the length", () => {
    const plan = rangePlan({ length: 100, pieces: [live(0, 99)] }, "bytes=-10", NOW, fits);
    expect(plan).toMatchObject({ kind: "serve", range: { start: 90, end: 99 } });
  });
  it("not held, the set full: the whole when it fits a tier, else the range", () => {
    const pieces = Array.from({ length: MAX_PIECES }, (_, i) => live(i * 10, i * 10 + 4));
    expect(rangePlan({ length: 1000, pieces }, "bytes=500-600", NOW, fits)).toEqual({ kind: "whole" });
    expect(rangePlan({ length: 1000, pieces }, "bytes=500-600", NOW, () => false)).toEqual({ kind: "forward" });
    expect(rangePlan({ length: 1000, pieces: pieces.slice(1) }, "bytes=500-600", NOW, fits)).toEqual({ kind: "forward" });
  });
});
