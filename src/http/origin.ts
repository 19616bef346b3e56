/**
 * The request to the origin: where it goes, which headers travel, how long we wait.
 */
import type { Clock } from "../clock";
import { stripHopByHop } from "./headers";

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


/** Requests the origin has been asked for (any attempt): the exception fallback must never send one again. */
const sent = new WeakSet<Request>();

/** Marks `request` as sent to the origin, before the send: a failure mid-way counts as sent. */
export function noteSent(request: Request): void {
  sent.add(request);
}

export function wasSent(request: Request): boolean {
  return sent.has(request);
}

interface OriginFetch {
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
    // workerd's own RequestInit field (absent from the DOM types the CLI compiles with).
    const init: RequestInit & { encodeResponseBody: "manual" } = {
      method: req.method,
      headers: stripHopByHop(req.headers, req.upgrade),
      body: req.body,
      // Redirects are the client's to follow; the cache stores them as they are.
      redirect: "manual",
      // The body as the origin sent it: a pre-compressed answer keeps its bytes, so its
      // Content-Length and strong ETag stay true (http/content-coding.ts).
      encodeResponseBody: "manual",
      // The zone's own cache sits under ours on a DNS route: it must not keep what we
      // decided not to store (ARCHITECTURE.md, invariant 7).
      cache: "no-store",
      signal: controller.signal,
    };
    return await fetch(req.url, init);
  } catch (err) {
    throw controller.signal.aborted ? controller.signal.reason : err;
  } finally {
    timer.cancel();
  }
}
