/**
 * The stored entry, the same in both tiers: versioned metadata (with the origin's
 * headers) plus the body as a stream. Code rejects versions it does not know, so a
 * format change can never be misread as a hit.
 *
 * Two kinds live at a key: a `response` (status, headers, body) and a `vary` index,
 * stored at the primary key of a URL whose responses carry `Vary`, naming the request
 * headers that select the variant (RFC 9111 §4.1); variants live at secondary keys.
 */
import type { Lifetimes } from "../policy/freshness";
import type { PieceMark } from "../policy/partial";
import type { VariantMark } from "../policy/vary";

export const ENTRY_VERSION = 1;

interface MetaBase {
  v: typeof ENTRY_VERSION;
  /** The readable cache key; checked on read against the key asked for. */
  key: string;
  /** Storage time, ms since epoch (the "response_time" of RFC 9111 §4.2.3): age and retention count from it. */
  storedAt: number;
  /**
   * When the origin request for this answer was sent (RFC 9111 §4.2.3 "request_time"),
   * ms: purges are dated against it, so an answer the origin began before a purge
   * never survives it. Absent in entries stored before it existed (then storedAt).
   */
  requestedAt?: number;
  /** Route name and tags, for purge (see src/purge: purges are records dated against requestedAt) and explain. */
  route: string;
  tags: string[];
}

export interface ResponseMeta extends MetaBase {
  kind: "response";
  status: number;
  headers: [string, string][];
  lifetimes: Lifetimes;
  /** Body length when known. */
  size: number | null;
}

export interface VaryMeta extends MetaBase {
  kind: "vary";
  /** Lower-cased request header names, sorted. */
  vary: string[];
  /**
   * Part of every variant's key. A new index (after the old one expired, was
   * invalidated or named other headers) gets a new epoch, so variants stored under
   * an older index can never be found again, in any tier or data centre.
   */
  epoch: number;
  /** How many variants `marks` lists: all that code written before the list reads (it counted stores). */
  variants: number;
  /**
   * The distinct variants stored under this epoch, at most the route's `maxVariants`
   * live ones (policy/vary `admitVariant`). Absent in indexes written before it: such
   * an index reads as listing none, and its variants are listed as they are stored again.
   */
  marks?: VariantMark[];
}

/**
 * The set of byte ranges kept of a URL (RFC 9111 §3.3, §3.4; policy/partial.ts), at
 * its own key beside the primary one (pipeline/partial.ts). Each piece is a `response`
 * entry (status 206) at a key naming the validator and its range. Code that does not
 * know this kind reads it as a miss (`checkMeta`), so it needed no version change.
 * Its `requestedAt` is the oldest piece's: a purge since then covers the whole set.
 */
export interface PartialMeta extends MetaBase {
  kind: "partial";
  /** The strong validator every piece shares (policy/partial `strongValidator`). */
  validator: string;
  /** The representation's length in bytes (Content-Range's complete length). */
  length: number;
  pieces: PieceMark[];
}

export type EntryMeta = ResponseMeta | VaryMeta | PartialMeta;

export interface StoredEntry {
  meta: EntryMeta;
  body: ReadableStream<Uint8Array> | null;
}

/** Validates parsed metadata; anything unexpected (other version, other key) is a miss. */
export function checkMeta(value: unknown, key: string): EntryMeta | null {
  if (typeof value !== "object" || value === null) return null;
  const m = value as Partial<EntryMeta>;
  if (m.v !== ENTRY_VERSION || m.key !== key || typeof m.storedAt !== "number") return null;
  if (m.requestedAt !== undefined && typeof m.requestedAt !== "number") return null;
  if (m.kind === "response") {
    return typeof m.status === "number" && Array.isArray(m.headers) && typeof m.lifetimes === "object"
      ? (m as ResponseMeta)
      : null;
  }
  if (m.kind === "vary") {
    const marksOk = m.marks === undefined || (Array.isArray(m.marks) && m.marks.every(isMark));
    return Array.isArray(m.vary) && typeof m.epoch === "number" && typeof m.variants === "number" && marksOk ? (m as VaryMeta) : null;
  }
  if (m.kind === "partial") {
    const piecesOk = Array.isArray(m.pieces) && m.pieces.every((p) => Array.isArray(p) && p.length === 3 && p.every((n) => typeof n === "number"));
    return typeof m.validator === "string" && typeof m.length === "number" && piecesOk ? (m as PartialMeta) : null;
  }
  return null;
}

function isMark(m: unknown): m is VariantMark {
  return Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "number";
}

// ---- the KV envelope: 4-byte big-endian length, metadata JSON, then the body ----

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Prefixes the body stream with the metadata, without reading the body. */
export function envelope(meta: EntryMeta, body: ReadableStream<Uint8Array> | null): ReadableStream<Uint8Array> {
  const json = encoder.encode(JSON.stringify(meta));
  const head = new Uint8Array(4 + json.length);
  new DataView(head.buffer).setUint32(0, json.length);
  head.set(json, 4);
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  void (async () => {
    try {
      await writer.write(head);
      if (body) {
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          await writer.write(value);
        }
      }
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => {});
    }
  })();
  return readable;
}

/** Reads the metadata off the front of an envelope; the rest of the stream is the body. */
export async function openEnvelope(
  stream: ReadableStream<Uint8Array>,
  key: string,
): Promise<StoredEntry | null> {
  const reader = stream.getReader();
  let buffered = new Uint8Array(0);
  const need = async (n: number): Promise<boolean> => {
    while (buffered.length < n) {
      const { done, value } = await reader.read();
      if (done) return false;
      const next = new Uint8Array(buffered.length + value.length);
      next.set(buffered);
      next.set(value, buffered.length);
      buffered = next;
    }
    return true;
  };
  const fail = async () => {
    await reader.cancel().catch(() => {});
    return null;
  };
  if (!(await need(4))) return fail();
  const len = new DataView(buffered.buffer, buffered.byteOffset).getUint32(0);
  // Metadata is small; a huge length means a corrupt value, not a reason to buffer.
  if (len > 1 << 20 || !(await need(4 + len))) return fail();
  let meta: EntryMeta | null;
  try {
    meta = checkMeta(JSON.parse(decoder.decode(buffered.subarray(4, 4 + len))), key);
  } catch {
    meta = null;
  }
  if (!meta) return fail();
  const rest = buffered.slice(4 + len);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.length) controller.enqueue(rest);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { meta, body: meta.kind === "response" ? body : (await body.cancel(), null) };
}
