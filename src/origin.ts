/**
 * The request to the origin: where it goes, which headers travel, how long we wait.
 */

/** RFC 9110 §7.6.1: hop-by-hop fields, never forwarded in either direction, never stored. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** Our own headers: stripped from what comes in and from what goes out (invariant 4). */
export const INTERNAL_HEADER_PREFIX = "x-edge-cache-";

/** Removes hop-by-hop fields, the ones `Connection` names, and our internal headers. */
export function stripHopByHop(headers: Headers, keepUpgrade = false): Headers {
  const out = new Headers(headers);
  const named = (headers.get("connection") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const name of [...HOP_BY_HOP, ...named]) {
    if (keepUpgrade && (name === "upgrade" || name === "connection")) continue;
    out.delete(name);
  }
  for (const name of [...out.keys()]) {
    if (name.startsWith(INTERNAL_HEADER_PREFIX)) out.delete(name);
  }
  return out;
}

/**
 * The URL the origin is asked for: the configured origin with the request's (normalized)
 * path and query, or the request's own URL when there is none (on a DNS route the
 * Worker's subrequest to its own host goes on to the zone's origin).
 */
export function originUrl(origin: string | null, target: URL): URL {
  if (origin === null) return target;
  const base = new URL(origin);
  const basePath = base.pathname.replace(/\/$/, "");
  return new URL(`${base.protocol}//${base.host}${basePath}${target.pathname}${target.search}`);
}

export class OriginTimeoutError extends Error {
  constructor(ms: number) {
    super(`origin sent no response headers within ${ms} ms`);
    this.name = "OriginTimeoutError";
  }
}

import type { Clock } from "./clock";

export interface OriginFetch {
  url: URL;
  method: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  timeoutMs: number;
  /** Upgrade requests (WebSocket) keep their Upgrade/Connection headers. */
  upgrade?: boolean;
}

/**
 * Fetches from the origin. The timeout covers the wait for response headers only:
 * a large body may take longer to stream, and cutting it would waste the transfer.
 */
export async function fetchOrigin(req: OriginFetch, clock: Clock): Promise<Response> {
  const controller = new AbortController();
  const timer = clock.timer(req.timeoutMs);
  void timer.fired.then(() => controller.abort(new OriginTimeoutError(req.timeoutMs)));
  try {
    return await fetch(req.url, {
      method: req.method,
      headers: stripHopByHop(req.headers, req.upgrade),
      body: req.body,
      // Redirects are the client's to follow; the cache stores them as they are.
      redirect: "manual",
      // The zone's own cache sits under ours on a DNS route: it must not keep what we
      // decided not to store (design: platform facts).
      cache: "no-store",
      signal: controller.signal,
    });
  } catch (err) {
    throw controller.signal.aborted ? controller.signal.reason : err;
  } finally {
    timer.cancel();
  }
}

/** Content-Length as a number, or null when absent or malformed. */
export function declaredLength(headers: Headers): number | null {
  const v = headers.get("content-length");
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
}
