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

