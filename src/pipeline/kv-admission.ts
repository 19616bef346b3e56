/**
 * Which answers are worth a KV write (docs/kv-writes.md). KV writes cost about ten
 * times reads and KV takes one per second per key, so with `kv.minHits: N` an answer
 * goes to KV only once it has been requested N times within its lifetime here (as
 * nginx's `proxy_cache_min_uses`); until then it lives in this location's edge tier
 * only, and the Nth request copies the edge entry to KV. Counted per isolate.
 */
import { remember } from "../bounded-map";
import { retentionSeconds } from "../policy/freshness";
import type { ResponseMeta } from "../tiers/entry";
import { storeEntry, type Found } from "../tiers/two-tier";
import type { Ctx } from "./context";

/**
 * Keys counted per isolate. Each holds the readable key (~100 bytes) and two numbers:
 * about 1.5 MB at the bound. Past it the oldest key goes; at worst it is counted anew.
 */
export const MAX_COUNTED_KEYS = 10_000;

export interface HitCounter {
  /** Counts one request for `key`; the count restarts once `until` (ms) of the first counted one has passed. */
  note(key: string, now: number, until: number): number;
}

export function createHitCounter(max = MAX_COUNTED_KEYS): HitCounter {
  const counts = new Map<string, { n: number; until: number }>();
  return {
    note(key, now, until) {
      const seen = counts.get(key);
      const next = seen && now < seen.until ? { n: seen.n + 1, until: seen.until } : { n: 1, until };
      remember(counts, key, next, max);
      return next.n;
    },
  };
}

/** Where counting applies: a route that stores in KV and waits for more than one request. */
function counting(c: Ctx): boolean {
  return c.route.tiers.kv && c.route.kv.minHits > 1 && c.deps.hits !== undefined;
}

/** The entry's lifetime in this location: how long it stays in the edge tier after it was stored. */
function lifetimeEnd(meta: Pick<ResponseMeta, "storedAt" | "lifetimes">): number {
  return meta.storedAt + retentionSeconds(meta.lifetimes) * 1000;
}

/** For a new answer about to be stored: may it go to KV? (Counts this request.) */
export function kvAdmits(c: Ctx, meta: Pick<ResponseMeta, "storedAt" | "lifetimes">): boolean {
  if (!counting(c)) return true;
  return c.deps.hits!.note(c.primary.key, c.deps.clock.now(), lifetimeEnd(meta)) >= c.route.kv.minHits;
}

/**
 * A hit from the edge tier: counts it, and on the Nth request copies the entry into
 * KV in the background (its body teed: the client's copy is returned).
 */
export function countEdgeHit(c: Ctx, found: Found): Found {
  if (found.tier !== "edge" || !counting(c)) return found;
  const n = c.deps.hits!.note(c.primary.key, c.deps.clock.now(), lifetimeEnd(found.meta));
  if (n !== c.route.kv.minHits || !found.body) return found;
  const [forClient, forKv] = found.body.tee();
  const plan = { edge: 0, kv: c.route.ttl.kv, edgeMaxBytes: null };
  c.exec.waitUntil(storeEntry(c.deps.tiers, plan, c.primary, found.vary, found.at, found.meta, forKv));
  return { ...found, body: forClient };
}
