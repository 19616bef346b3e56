/**
 * The last step: the client-facing response. Sets Cache-Status and Age, applies the
 * browser TTL, answers conditionals (304) and ranges (206/416) from a stored entry,
 * drops HEAD bodies and every header that must not reach the client.
 */
import { appendCacheStatus, type CacheStatus } from "../http/cache-status";
import { declaredLength, stripHopByHop } from "../http/headers";
import { FieldList, headersInit, type Fields } from "../http/field-list";
import { splitList } from "../http/fields";
import { parseHttpDate } from "../policy/http-date";
import type { ResponseMeta } from "../tiers/entry";

/** Consumed by us (RFC 9213 §2.1 says a targeted field may be kept; Cloudflare's own is not passed on). */
const CONSUMED = ["cloudflare-cdn-cache-control"];

interface DeliverOptions {
  method: string;
  requestHeaders: Headers;
  status: CacheStatus;
  /** Route's browser TTL, or null to pass the origin's Cache-Control on. */
  browserTtl: number | null;
  /** Extra headers (Server-Timing). */
  extra?: [string, string][];
}

function finish(status: number, headers: Fields, body: ReadableStream | null, o: DeliverOptions): Response {
  for (const h of CONSUMED) headers.delete(h);
  appendCacheStatus(headers, o.status);
  for (const [k, v] of o.extra ?? []) headers.append(k, v);
  if (o.method === "HEAD" && body) {
    void body.cancel().catch(() => {});
    body = null;
  }
  // Statuses that cannot carry a body (RFC 9110 §6.4.1).
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) body = null;
  return new Response(body, { status, headers: headersInit(headers) });
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
  if (!o.cacheable) return finish(res.status, headers, res.body, o);
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

/** A single byte range (RFC 9110 §14.1.2), or "unsatisfiable", or null to send the whole thing. */
export function parseRange(value: string | null, size: number): { start: number; end: number } | "unsatisfiable" | null {
  if (value === null) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
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

/** A whole 200 we hold: answer the client's conditionals (304) and range (206/416) from it. */
function represent(
  status: number,
  headers: Fields,
  body: ReadableStream<Uint8Array> | null,
  size: number | null,
  o: DeliverOptions,
  storedAt: number | null = null,
): Response {
  if (status !== 200 || (o.method !== "GET" && o.method !== "HEAD")) return finish(status, headers, body, o);
  if (notModified(o.requestHeaders, headers, storedAt)) {
    void body?.cancel().catch(() => {});
    const h = new FieldList([]);
    for (const name of [...NOT_MODIFIED_FIELDS, "age"]) {
      const v = headers.get(name);
      if (v !== null) h.set(name, v);
    }
    return finish(304, h, null, o);
  }
  if (size === null) return finish(status, headers, body, o);
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
