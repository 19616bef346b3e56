/**
 * Failed authentications, counted per client: past the limit a client gets `429` for
 * every request that needs a token (even with the right one, or the answer would tell
 * a guesser when it has won) until its window ends. One count for every way a token
 * is presented (the admin API's Bearer, `PURGE` with Bearer or `X-Purge-Token`), so a
 * guesser cannot double its tries by switching doors. A client is its IPv4 address, or
 * its IPv6 /64: a subscriber gets at least a /64 (RFC 6177) and picks any address in
 * it at will. Per isolate: an attacker who spreads over many isolates gets more tries,
 * but each one still pays the limit, and a 32-character token is out of reach of
 * guessing anyway; the limit stops a weak token being walked and keeps the logs readable.
 */
import { jsonResponse } from "../http/respond";
import { parseAddress } from "./ip-allow";

/** Failures a client may make in one window. */
export const MAX_AUTH_FAILURES = 20;
export const AUTH_WINDOW_MS = 60_000;
/** Clients remembered at once; past it, expired windows are dropped, then the oldest. */
const MAX_ADDRESSES = 10_000;

export interface AuthThrottle {
  /** A 429 when `client` is over its limit, else null. */
  check(client: string): Response | null;
  failed(client: string): void;
}

/**
 * Who the failures are counted against, from the address Cloudflare gives
 * (`CF-Connecting-IP`): the IPv4 address, or the IPv6 /64 (`2001:db8:0:1::/64`). One
 * shared bucket when absent (local runs); an unreadable value counts as itself.
 */
export function clientAddress(request: Request): string {
  const ip = request.headers.get("cf-connecting-ip")?.trim();
  if (!ip) return "unknown";
  const addr = parseAddress(ip);
  if (addr === null) return ip;
  if (!addr.v6) return [24n, 16n, 8n, 0n].map((shift) => (addr.value >> shift) & 0xffn).join(".");
  const groups = [112n, 96n, 80n, 64n].map((shift) => ((addr.value >> shift) & 0xffffn).toString(16));
  return `${groups.join(":")}::/64`;
}

/** The one throttle of an admin wiring: `createWorker` hands the same deps to the admin API and to `PURGE`. */
const shared = new WeakMap<object, AuthThrottle>();

export function authThrottleOf(deps: { now(): number }): AuthThrottle {
  let throttle = shared.get(deps);
  if (!throttle) shared.set(deps, (throttle = createAuthThrottle(() => deps.now())));
  return throttle;
}

export function createAuthThrottle(now: () => number): AuthThrottle {
  const windows = new Map<string, { start: number; failures: number }>();
  const current = (address: string) => {
    const w = windows.get(address);
    return w && now() - w.start < AUTH_WINDOW_MS ? w : null;
  };
  return {
    check(client) {
      const w = current(client);
      if (!w || w.failures < MAX_AUTH_FAILURES) return null;
      const retry = Math.max(1, Math.ceil((w.start + AUTH_WINDOW_MS - now()) / 1000));
      return jsonResponse(
        {
          error: "too-many-failures",
          message: `More than ${MAX_AUTH_FAILURES} failed authentications (admin API or PURGE) from this address (its /64 for IPv6) within ${AUTH_WINDOW_MS / 1000} s: try again in ${retry} s, with the right token.`,
        },
        429,
        { "retry-after": String(retry) },
      );
    },
    failed(client) {
      const w = current(client);
      if (w) return void w.failures++;
      if (windows.size >= MAX_ADDRESSES) prune(windows, now());
      windows.set(client, { start: now(), failures: 1 });
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
