/**
 * Partial content (RFC 9111 §3.3, §3.4): which byte ranges of a URL are kept as
 * pieces, which pieces answer a range, when a set of pieces is the whole
 * representation, and how many are kept. Pure: pipeline/partial.ts does the I/O.
 *
 * A set of pieces shares one strong validator (§3.4: only responses with the same
 * strong validator may be combined); a piece with another validator starts a new set,
 * and the old pieces are never served again.
 */
import { parseHttpDate } from "./http-date";

/** At most this many pieces per URL: a viewer's seeks, each one more read per answer spanning them (the index stays ~1 KB). */
export const MAX_PIECES = 16;
/** At most this many bytes of pieces per URL: a few whole KV values' worth, so one large file never holds a tier's share of many. */
export const MAX_PIECE_BYTES = 64 * 1024 * 1024;

/** A stored piece as its set lists it: first and last byte (inclusive), and until when (s since epoch) it is fresh; a stale one is no longer listed. */
export type PieceMark = [start: number, end: number, until: number];

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

const BYTE_RANGE = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i;

/** A single byte range (RFC 9110 §14.1.2), or "unsatisfiable", or null to send the whole thing. */
export function parseRange(value: string | null, size: number): ByteRange | "unsatisfiable" | null {
  if (value === null) return null;
  const m = BYTE_RANGE.exec(value);
  // Several ranges or other units: the whole representation is a valid answer (§14.2).
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    // An empty representation has no suffix to select (§14.2): send it whole.
    if (size === 0) return null;
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** The Range to ask the origin for when the length is not known yet: one valid byte range, normalized; else null. */
export function singleRange(value: string | null): string | null {
  const m = value === null ? null : BYTE_RANGE.exec(value);
  if (!m || (m[1] === "" && m[2] === "") || (m[1] !== "" && m[2] !== "" && Number(m[2]) < Number(m[1]))) return null;
  return `bytes=${m[1]}-${m[2]}`;
}

/** RFC 9110 §14.4 `Content-Range: bytes a-b/N` of a single part with a known length, else null. */
export function parseContentRange(value: string | null): ByteRange & { length: number } | null {
  const m = value === null ? null : /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec(value);
  if (!m) return null;
  const [start, end, length] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return start <= end && end < length && Number.isSafeInteger(length) ? { start, end, length } : null;
}

/**
 * The strong validator pieces are combined on (RFC 9111 §3.4), or null. A strong
 * ETag; without an ETag, a Last-Modified at least a second older than the response's
 * Date, which RFC 9110 §8.8.2.2 lets a cache treat as strong.
 */
export function strongValidator(headers: Pick<Headers, "get">): string | null {
  const etag = headers.get("etag")?.trim();
  if (etag) return etag.startsWith("W/") ? null : `etag ${etag}`;
  const modified = parseHttpDate(headers.get("last-modified"));
  const date = parseHttpDate(headers.get("date"));
  return modified !== null && date !== null && date - modified >= 1000 ? `lm ${modified}` : null;
}

/** One piece's share of an answer: bytes `from`..`to` (absolute, inclusive) of `piece`. */
export interface Segment {
  piece: PieceMark;
  from: number;
  to: number;
}

/**
 * The live pieces that together hold `range`, in order, each read from where the
 * previous one ends (the one reaching furthest first), or null when some byte is in none.
 */
export function cover(pieces: readonly PieceMark[], range: ByteRange, nowSeconds: number): Segment[] | null {
  const live = pieces.filter((p) => p[2] > nowSeconds);
  const out: Segment[] = [];
  for (let pos = range.start; pos <= range.end; ) {
    let best: PieceMark | null = null;
    for (const p of live) if (p[0] <= pos && p[1] >= pos && (best === null || p[1] > best[1])) best = p;
    if (best === null) return null;
    out.push({ piece: best, from: pos, to: Math.min(best[1], range.end) });
    pos = best[1] + 1;
  }
  return out;
}

/** Whether the live pieces hold every byte of a representation of `length` bytes (the set then becomes the whole entry). */
export function complete(pieces: readonly PieceMark[], length: number, nowSeconds: number): boolean {
  return length > 0 && cover(pieces, { start: 0, end: length - 1 }, nowSeconds) !== null;
}

const bytes = (pieces: readonly PieceMark[]) => pieces.reduce((n, p) => n + p[1] - p[0] + 1, 0);

/** Whether a set has no room for one more piece (of at least one byte). */
export function full(pieces: readonly PieceMark[], nowSeconds: number): boolean {
  const live = pieces.filter((p) => p[2] > nowSeconds);
  return live.length >= MAX_PIECES || bytes(live) >= MAX_PIECE_BYTES;
}

/**
 * Admits a new piece into a set: expired pieces and those it contains leave the list;
 * past `MAX_PIECES` or `MAX_PIECE_BYTES` the new piece is not kept (passed through)
 * and nothing is evicted, as with `maxVariants`: the pieces a viewer fetched first
 * (the start of a file, the index of a PDF) are the ones read again.
 */
export function admitPiece(pieces: readonly PieceMark[], piece: PieceMark, nowSeconds: number): { store: true; pieces: PieceMark[] } | { store: false } {
  const kept = pieces.filter((p) => p[2] > nowSeconds && !(p[0] >= piece[0] && p[1] <= piece[1]));
  if (kept.length + 1 > MAX_PIECES || bytes(kept) + piece[1] - piece[0] + 1 > MAX_PIECE_BYTES) return { store: false };
  return { store: true, pieces: [...kept, piece].sort((a, b) => a[0] - b[0] || a[1] - b[1]) };
}

/** What a range request that found no whole entry does, given the URL's set of pieces (null: none). */
export type RangePlan =
  | { kind: "serve"; range: ByteRange; segments: Segment[] }
  /** Ask the origin for the client's range and keep the 206 as a piece. */
  | { kind: "forward" }
  /** Fetch the whole representation, as a plain miss does: the set is full and the whole fits a tier. */
  | { kind: "whole" };

export function rangePlan(
  set: { length: number; pieces: readonly PieceMark[] } | null,
  rangeHeader: string,
  nowSeconds: number,
  wholeFits: (length: number) => boolean,
): RangePlan {
  if (set === null) return { kind: "forward" };
  const range = parseRange(rangeHeader, set.length);
  if (range !== null && range !== "unsatisfiable") {
    const segments = cover(set.pieces, range, nowSeconds);
    if (segments) return { kind: "serve", range, segments };
  }
  // Ranges read in small steps (a PDF viewer's) would fill the set and pass ever after: the whole is kept instead.
  return full(set.pieces, nowSeconds) && wholeFits(set.length) ? { kind: "whole" } : { kind: "forward" };
}
