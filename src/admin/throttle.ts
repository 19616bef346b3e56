/**
 * Failed admin authentications, counted per client address: past the limit an address
 * gets `429` for every admin request (even with the right token, or the answer would
 * tell a guesser when it has won) until its window ends. Per isolate: an attacker who
 * spreads over many isolates gets more tries, but each one still pays the limit, and a
 * 32-character token is out of reach of guessing anyway; the limit stops a weak token
 * being walked and keeps the logs readable.
 */
import { jsonResponse } from "../http/respond";

/** Failures an address may make in one window. */
export const MAX_AUTH_FAILURES = 20;
export const AUTH_WINDOW_MS = 60_000;
/** Addresses remembered at once; past it, expired windows are dropped, then the oldest. */
const MAX_ADDRESSES = 10_000;

export interface AuthThrottle {
  /** A 429 when `address` is over its limit, else null. */
  check(address: string): Response | null;
  failed(address: string): void;
}

/** The client's address as Cloudflare gives it (`CF-Connecting-IP`); one shared bucket when absent (local runs). */
export function clientAddress(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "unknown";
}

export function createAuthThrottle(now: () => number): AuthThrottle {
  const windows = new Map<string, { start: number; failures: number }>();
  const current = (address: string) => {
    const w = windows.get(address);
    return w && now() - w.start < AUTH_WINDOW_MS ? w : null;
  };
  return {
    check(address) {
      const w = current(address);
      if (!w || w.failures < MAX_AUTH_FAILURES) return null;
      const retry = Math.max(1, Math.ceil((w.start + AUTH_WINDOW_MS - now()) / 1000));
      return jsonResponse(
        {
          error: "too-many-failures",
          message: `More than ${MAX_AUTH_FAILURES} failed admin authentications from this address within ${AUTH_WINDOW_MS / 1000} s: try again in ${retry} s, with the right token.`,
        },
        429,
        { "retry-after": String(retry) },
      );
    },
    failed(address) {
      const w = current(address);
      if (w) return void w.failures++;
      if (windows.size >= MAX_ADDRESSES) prune(windows, now());
      windows.set(address, { start: now(), failures: 1 });
    },
  };
}

function prune(windows: Map<string, { start: number }>, at: number): void {
  for (const [address, w] of windows) if (at - w.start >= AUTH_WINDOW_MS) windows.delete(address);
  // Still full: forget the oldest (a Map iterates in insertion order).
  for (const address of windows.keys()) {
    if (windows.size < MAX_ADDRESSES) break;
    windows.delete(address);
  }
}
