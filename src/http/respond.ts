/**
 * Small response helpers shared by the pipeline and the admin API.
 */
import { appendCacheStatus, type CacheStatus } from "./cache-status";
import { OriginTimeoutError } from "./origin";

/** A short, clear error that no cache anywhere may keep. */
export function errorResponse(status: number, message: string, cacheStatus?: CacheStatus): Response {
  const headers = new Headers({ "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  if (cacheStatus) appendCacheStatus(headers, cacheStatus);
  return new Response(`${message}\n`, { status, headers });
}

/** 504 when the origin was too slow, 502 for every other way of not answering. */
export function originFailure(err: unknown): { status: 502 | 504; message: string } {
  if (err instanceof OriginTimeoutError) return { status: 504, message: "Gateway Timeout: the origin did not answer in time" };
  return { status: 502, message: "Bad Gateway: the origin could not be reached" };
}

/** JSON in, JSON out, never cached. */
export function jsonResponse(value: unknown, status = 200, extra?: HeadersInit): Response {
  const headers = new Headers(extra);
  headers.set("content-type", "application/json; charset=utf-8");
  headers.set("cache-control", "no-store");
  return new Response(`${JSON.stringify(value, null, 2)}\n`, { status, headers });
}

/** Longest URL and largest header block we accept; past them a clear 4xx, before any work. */
const MAX_URL_BYTES = 8 * 1024;
const MAX_HEADER_BYTES = 32 * 1024;

/** 414 or 431 (RFC 9110 §15.5.15, RFC 6585 §5) for requests too large to handle safely, else null. */
export function requestTooLarge(request: Request): { status: 414 | 431; message: string } | null {
  if (request.url.length > MAX_URL_BYTES) {
    return { status: 414, message: `URI Too Long: at most ${MAX_URL_BYTES} bytes` };
  }
  let size = 0;
  // forEach, not the iterator: no [name, value] array per field on every request.
  request.headers.forEach((v, k) => (size += k.length + v.length + 4));
  if (size > MAX_HEADER_BYTES) {
    return { status: 431, message: `Request Header Fields Too Large: at most ${MAX_HEADER_BYTES} bytes in all` };
  }
  return null;
}
