/**
 * The last step: the client-facing response. Sets Cache-Status and Age, applies the
 * browser TTL, answers conditionals (304) and ranges (206/416) from a stored entry,
 * drops HEAD bodies and every header that must not reach the client.
 */
import { appendCacheStatus, type CacheStatus } from "../http/cache-status";
import { declaredLength, stripHopByHop } from "../http/headers";
import { FieldList, headersInit, type Fields } from "../http/field-list";
import { splitList } from "../http/fields";
import { contentCoding, decoderFor, weakened } from "../http/content-coding";
import { parseHttpDate } from "../policy/http-date";
import { parseRange, type ByteRange } from "../policy/partial";
import type { ResponseMeta } from "../tiers/entry";

/** Moved to policy/partial.ts (pure); still exported here for its callers. */
export { parseRange };

/** Consumed by us (RFC 9213 §2.1 says a targeted field may be kept; Cloudflare's own is not passed on). */
const CONSUMED = ["cloudflare-cdn-cache-control"];

interface DeliverOptions {
  method: string;
  requestHeaders: Headers;
  /** The client's own Accept-Encoding (http/content-coding.ts `clientAcceptEncoding`): what it can decode. */
  acceptEncoding: string | null;
  status: CacheStatus;
  /** Route's browser TTL, or null to pass the origin's Cache-Control on. */
  browserTtl: number | null;
  /** Extra headers (Server-Timing). */
  extra?: [string, string][];
}

function finish(status: number, headers: Fields, body: ReadableStream | null, o: DeliverOptions, decoder: DecompressionStream | null = null): Response {
  for (const h of CONSUMED) headers.delete(h);
  appendCacheStatus(headers, o.status);
  for (const [k, v] of o.extra ?? []) headers.append(k, v);
  if (o.method === "HEAD" && body) {
    void body.cancel().catch(() => {});
    body = null;
  }
  // Statuses that cannot carry a body (RFC 9110 §6.4.1).
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) body = null;
  if (decoder) {
    // The client does not accept the stored coding: it gets the decoded content, of a length known only at its end.
    headers.delete("content-encoding");
    headers.delete("content-length");
    const etag = weakened(headers.get("etag"));
    if (etag !== null) headers.set("etag", etag);
    if (body) body = body.pipeThrough(decoder);
  }
  // The body is the origin's bytes as it sent them (encoded or not): the runtime must
  // not encode them again (http/content-coding.ts).
  return new Response(body, { status, headers: headersInit(headers), encodeBody: "manual" });
}

/**
 * The decoder a body with these fields needs for this client, or null. A body that may
 * reach some clients decoded differs by Accept-Encoding: say so to caches downstream
 * (RFC 9110 §12.5.5), whichever form this client gets.
 */
function decoding(status: number, headers: Fields, o: DeliverOptions): DecompressionStream | null {
  const coding = contentCoding(headers.get("content-encoding"));
  if (coding === null || status === 206) return null;
  const vary = headers.get("vary");
  if (vary === null) headers.set("vary", "Accept-Encoding");
  else if (!splitList(vary).some((n) => n.toLowerCase() === "accept-encoding" || n === "*")) headers.set("vary", `${vary}, Accept-Encoding`);
  return decoderFor(coding, o.acceptEncoding);
}

function applyBrowserTtl(headers: Fields, ttl: number | null): void {
  if (ttl === null) return;
  headers.set("cache-control", `max-age=${ttl}`);
  headers.delete("expires");
}

/**
 * Delivers what the origin answered. A cacheable answer is treated as the entry it
 * becomes: the client's conditionals and ranges are answered from it.
 */
export function deliverFromOrigin(res: Response, o: DeliverOptions & { cacheable: boolean }): Response {
  const headers = stripHopByHop(res.headers);
  if (!o.cacheable) return finish(res.status, headers, res.body, o, decoding(res.status, headers, o));
  applyBrowserTtl(headers, o.browserTtl);
  return represent(res.status, headers, res.body, declaredLength(res.headers), o);
}

/** RFC 9110 §13.1.2 If-None-Match, weak comparison. */
function etagMatches(ifNoneMatch: string, etag: string | null): boolean {
  // `*` matches any current representation, with or without an ETag.
  if (ifNoneMatch.trim() === "*") return true;
  if (etag === null) return false;
  const weak = (t: string) => t.trim().replace(/^W\//, "");
  // Entity tags may contain commas inside their quotes (§8.8.3).
  return splitList(ifNoneMatch).some((t) => weak(t) === weak(etag));
}

/**
 * RFC 9110 §13.1.1, §13.1.3, §13.2.2: would the client's conditional turn this 200
 * into a 304? If-Modified-Since is ignored beside If-None-Match or when it is not an
 * HTTP date; without a valid Last-Modified it is evaluated against the stored Date,
 * else the time the response was stored (RFC 9111 §4.3.2).
 */
export function notModified(reqHeaders: Headers, stored: Pick<Fields, "get">, storedAt: number | null = null): boolean {
  const inm = reqHeaders.get("if-none-match");
  if (inm !== null) return etagMatches(inm, stored.get("etag"));
  const ims = parseHttpDate(reqHeaders.get("if-modified-since"));
  if (ims === null) return false;
  // HTTP dates have whole seconds: a response stored during the second IMS names is not newer.
  const received = storedAt === null ? null : Math.floor(storedAt / 1000) * 1000;
  const modified = parseHttpDate(stored.get("last-modified")) ?? parseHttpDate(stored.get("date")) ?? received;
  return modified !== null && modified <= ims;
}

/** RFC 9110 §15.4.5: the fields a 304 carries from the 200 it stands for. */
const NOT_MODIFIED_FIELDS = ["cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"];

/** §13.1.5 If-Range: only a strong ETag match or an exact Last-Modified keeps the Range. */
function ifRangeHolds(reqHeaders: Headers, stored: Pick<Fields, "get">): boolean {
  const ifRange = reqHeaders.get("if-range");
  if (ifRange === null) return true;
  if (ifRange.startsWith('"')) return stored.get("etag") === ifRange;
  return stored.get("last-modified") === ifRange;
}

function slice(body: ReadableStream<Uint8Array>, start: number, end: number): ReadableStream<Uint8Array> {
  let pos = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const from = Math.max(0, start - pos);
        const to = Math.min(chunk.byteLength, end + 1 - pos);
        if (from < to) controller.enqueue(chunk.subarray(from, to));
        pos += chunk.byteLength;
        // Past the range: stop reading the rest of the entry.
        if (pos > end) controller.terminate();
      },
    }),
  );
}

/** Delivers a stored entry (hit, stale, or revalidated). */
export function deliverFromEntry(
  meta: ResponseMeta,
  body: ReadableStream<Uint8Array> | null,
  age: number,
  o: DeliverOptions,
): Response {
  // Edited as pairs: the Response reads them once (http/field-list.ts).
  const headers = new FieldList(meta.headers);
  headers.set("age", String(age));
  applyBrowserTtl(headers, o.browserTtl);
  return represent(meta.status, headers, body, meta.size, o, meta.storedAt);
}

/** A range answered from stored pieces (pipeline/partial.ts), with the fields of one of them. */
export function deliverPieces(meta: ResponseMeta, body: ReadableStream<Uint8Array>, range: ByteRange, length: number, age: number, o: DeliverOptions): Response {
  const headers = new FieldList(meta.headers);
  headers.set("age", String(age));
  applyBrowserTtl(headers, o.browserTtl);
  headers.set("accept-ranges", "bytes");
  headers.set("content-range", `bytes ${range.start}-${range.end}/${length}`);
  headers.set("content-length", String(range.end - range.start + 1));
  return finish(206, headers, body, o);
}

/** A whole 200 we hold: answer the client's conditionals (304) and range (206/416) from it. */
function represent(
  status: number,
  headers: Fields,
  body: ReadableStream<Uint8Array> | null,
  size: number | null,
  o: DeliverOptions,
  storedAt: number | null = null,
): Response {
  const decoder = decoding(status, headers, o);
  if (status !== 200 || (o.method !== "GET" && o.method !== "HEAD")) return finish(status, headers, body, o, decoder);
  if (notModified(o.requestHeaders, headers, storedAt)) {
    void body?.cancel().catch(() => {});
    const h = new FieldList([]);
    for (const name of [...NOT_MODIFIED_FIELDS, "age"]) {
      const v = headers.get(name);
      if (v !== null) h.set(name, v);
    }
    return finish(304, h, null, o, decoder);
  }
  // A range selects stored bytes (RFC 9110 §14.1.1): of a body decoded on the way, the
  // whole content is the answer (§14.2 lets a server ignore Range).
  if (size === null || decoder) return finish(status, headers, body, o, decoder);
  headers.set("accept-ranges", "bytes");
  const range = ifRangeHolds(o.requestHeaders, headers) ? parseRange(o.requestHeaders.get("range"), size) : null;
  if (range === "unsatisfiable") {
    void body?.cancel().catch(() => {});
    return finish(416, new Headers({ "content-range": `bytes */${size}` }), null, o);
  }
  if (range && body) {
    headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
    headers.set("content-length", String(range.end - range.start + 1));
    return finish(206, headers, slice(body, range.start, range.end), o);
  }
  return finish(status, headers, body, o);
}
