/**
 * The built-in defaults: what a setting is when neither the route nor the file's
 * `defaults` says. Kept as data so the compiler, `rules explain` and the docs can
 * all show the same values.
 */
import type { HealthCount } from "../policy/origin-health";
import type { ClientCacheControl, LogSetting, OriginMode } from "./types";

/** Edge TTL used when none is given, except in `respect` mode (see `builtinEdgeTtl`). */
const DEFAULT_EDGE_TTL = 3600;

/** The built-in value of every setting whose default does not depend on the origin mode. */
export const BUILTIN_DEFAULTS = deepFreeze({
  origin: "fallback" as OriginMode,
  ttl: {
    // KV is opt-in: its writes cost money and it allows one write per second per key.
    kv: 0,
    // null: the origin's Cache-Control passes on to the browser.
    browser: null as number | null,
  },
  status: {} as Record<string, number>,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  clientCacheControl: "ignore" as ClientCacheControl,
  stripSetCookie: false,
  cacheAuthorized: false,
  storePostAnswers: false,
  /** Seconds. */
  originTimeout: 30,
  maxVariants: 16,
  // No limit of ours: the Cache API refuses what it cannot keep (512 MB per object on most plans).
  maxObjectSize: { edge: null as number | null },
  key: {
    query: { mode: "ignore" as "ignore" | "allow", names: [] as readonly string[], sort: false },
    headers: [] as readonly string[],
    cookies: [] as readonly string[],
    device: false,
  },
  bypass: {
    always: false,
    cookies: [] as readonly string[],
    headers: [] as readonly string[],
    query: [] as readonly string[],
    methods: [] as readonly string[],
  },
  tags: [] as readonly string[],
  debug: false,
  log: "all" as LogSetting,
  shield: false,
  // Connection failures only: an application's own 5xx or a slow endpoint is never the whole origin's failure.
  originHealth: { failures: 5, coolOff: 30, count: [] as readonly HealthCount[] },
  kv: { minHits: 1 },
});

/**
 * In `respect` mode the origin's headers decide freshness, so there is no rule TTL
 * unless one is written (then it only caps); the other modes need a number.
 */
export function builtinEdgeTtl(mode: OriginMode): number | null {
  return mode === "respect" ? null : DEFAULT_EDGE_TTL;
}

/** Heuristic freshness (RFC 9111 §4.2.2) is what a standard cache does, so it is on in `respect` mode only. */
export function builtinHeuristic(mode: OriginMode): boolean {
  return mode === "respect";
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
