/**
 * The lookup step: both tiers in the order the route uses them, the purge check on
 * what they hold, and a hit delivered from it.
 */
import { clientAcceptEncoding } from "../http/content-coding";
import type { CacheStatus } from "../http/cache-status";
import type { Lifetimes } from "../policy/freshness";
import type { Ctx } from "./context";
import { deliverFromEntry } from "./deliver";
import { countEdgeHit } from "./kv-admission";
import type { VaryMeta } from "../tiers/entry";
import { lookup, type Found } from "../tiers/two-tier";

interface LookupResult {
  /** What a tier holds for the request and no purge has removed; its lifetimes marked stale by a soft purge. */
  found: Found | null;
  /** The Vary index a tier had: a new variant joins its epoch. */
  index: VaryMeta | null;
}

/** Both tiers the route uses, raw: no purge check (a collapsed request reads what its leader just stored). */
export function lookupTiers(c: Ctx) {
  return lookup(c.deps.tiers, c.primary, () => c.variantHeaders, {
    edge: c.route.tiers.edge,
    kv: c.route.tiers.kv,
    now: c.deps.clock.now(),
    background: (p) => c.exec.waitUntil(p),
    timed: (tier, ms) => c.rec.time(tier, ms),
    edgeMaxBytes: c.route.maxObjectSize.edge,
  });
}

/** The lookup, then the purge check: a purged entry is gone (hard) or expired (soft); the records live in src/purge. */
export async function lookupEntry(c: Ctx): Promise<LookupResult> {
  const { found, index } = await lookupTiers(c);
  if (!found) return { found: null, index };
  const verdict = c.deps.purges ? await c.deps.purges.verdict(found.meta, c.target, (p) => c.exec.waitUntil(p)) : null;
  if (verdict === "hard") {
    await found.body?.cancel();
    c.exec.waitUntil(c.deps.tiers[found.tier].delete(found.at));
    return { found: null, index };
  }
  if (verdict !== "soft") return { found, index };
  const lifetimes: Lifetimes = { ...found.meta.lifetimes, lifetime: 0 };
  return { found: { ...found, meta: { ...found.meta, lifetimes } }, index };
}

/** A stored entry delivered as it is, `age` seconds old. */
export function deliverHit(c: Ctx, hit: Found, age: number, status: CacheStatus): Response {
  // A hit counts towards `kv.minHits`: the Nth copies the edge entry to KV (kv-admission.ts).
  const found = countEdgeHit(c, hit);
  return deliverFromEntry(found.meta, found.body, age, {
    method: c.request.method,
    requestHeaders: c.request.headers,
    acceptEncoding: clientAcceptEncoding(c.request),
    status,
    browserTtl: c.route.ttl.browser,
  });
}
