/**
 * The per-isolate store of origin health (policy/origin-health.ts) and the gate
 * every fetch for the cache goes through: while the origin is down no request
 * waits for it. The caller gets an `OriginDownError` at once (stale entry or 503,
 * see miss.ts and revalidate.ts), or the route's `fallbackOrigin` is asked instead.
 */
import { remember } from "../bounded-map";
import type { CacheStatus } from "../http/cache-status";
import { OriginTimeoutError, originUrl } from "../http/origin";
import { errorResponse } from "../http/respond";
import { admit, afterAnswer, HEALTHY, observe, weigh, type OriginHealth } from "../policy/origin-health";
import type { Ctx } from "./context";

/** Origins tracked per isolate: the rules name a few; on a DNS route each host is one. Oldest dropped past this. */
const MAX_ORIGINS = 1_000;

/** No request went to the origin: it is down for `retryAfter` more seconds. */
export class OriginDownError extends Error {
  constructor(readonly retryAfter: number) {
    super(`the origin is down (retry in ${retryAfter} s)`);
    this.name = "OriginDownError";
  }
}

export interface HealthStore {
  get(origin: string): OriginHealth;
  set(origin: string, state: OriginHealth): void;
}

export function createHealthStore(): HealthStore {
  const states = new Map<string, OriginHealth>();
  return {
    get: (origin) => states.get(origin) ?? HEALTHY,
    set(origin, state) {
      // Healthy is the default: only origins with something to remember take room.
      if (state === HEALTHY) states.delete(origin);
      else remember(states, origin, state, MAX_ORIGINS);
    },
  };
}

/** The origin key health is kept under: scheme, host and port of what the route's requests are sent to. */
function originKey(c: Ctx): string {
  return originUrl(c.rules.origin, c.target).origin;
}

/** Whether the route's origin is down now (a probe may be out): a waiter must not queue behind it. */
export function originDown(c: Ctx): boolean {
  return c.route.originHealth !== null && c.deps.health !== undefined && c.deps.health.get(originKey(c)).downUntil !== null;
}

/**
 * Runs `fetch` against the origin (its base URL as the rules give it) when its
 * health allows, and notes the outcome (policy/origin-health.ts says what counts).
 * While down: `fetch` against the route's fallback origin (its failure counts as the
 * origin being down), else an `OriginDownError`. A route with `originHealth: false`
 * is never held back; its answers still tell the other routes that the origin is up.
 */
export async function gatedFetch<T extends { res: Response; requestTime: number }>(c: Ctx, fetch: (origin: string | null) => Promise<T>): Promise<T & { fallback?: true }> {
  const setting = c.route.originHealth;
  const store = c.deps.health;
  if (!store) return fetch(c.rules.origin);
  const key = originKey(c);
  if (!setting) {
    const fetched = await fetch(c.rules.origin);
    if (weigh({ status: fetched.res.status }) === "answer") store.set(key, afterAnswer(store.get(key), fetched.requestTime));
    return fetched;
  }
  const clock = c.deps.clock;
  // The lease covers the probe's wait for headers: a probe lost on the way cannot block recovery.
  const { admission, state } = admit(store.get(key), clock.now(), c.route.originTimeoutMs + 1_000);
  store.set(key, state);
  if (admission.go === "down") {
    if (c.route.fallbackOrigin === null) throw new OriginDownError(admission.retryAfter);
    try {
      return { ...(await fetch(c.route.fallbackOrigin)), fallback: true };
    } catch {
      throw new OriginDownError(admission.retryAfter);
    }
  }
  const probe = admission.go === "probe";
  const sentAt = clock.now();
  let fetched: T;
  try {
    fetched = await fetch(c.rules.origin);
  } catch (err) {
    const outcome = { error: err instanceof OriginTimeoutError ? "timeout" : "connection" } as const;
    store.set(key, observe(store.get(key), outcome, sentAt, clock.now(), setting, probe));
    throw err;
  }
  // An answer the shield held was asked for earlier than this request: it counts from then.
  store.set(key, observe(store.get(key), { status: fetched.res.status }, fetched.requestTime, clock.now(), setting, probe));
  return fetched;
}

/** No stale entry to serve while the origin is down: 503 at once (RFC 9110 §15.6.4), never stored. */
export function originDownResponse(err: OriginDownError, status: CacheStatus): Response {
  const res = errorResponse(503, "Service Unavailable: the origin is down; try again shortly", { ...status, detail: "origin-down" });
  res.headers.set("retry-after", String(err.retryAfter));
  return res;
}
