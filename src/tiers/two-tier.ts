/**
 * Both tiers as one store: lookup edge then KV (following a Vary index to the
 * variant), refill the edge from a KV hit, and stream one body into every tier
 * that should hold it.
 */
import { hashKey } from "../policy/cache-key";
import { retentionSeconds } from "../policy/freshness";
import { variantKey } from "../policy/vary";
import type { EntryMeta, ResponseMeta, VaryMeta } from "./entry";
import type { StorageKey, Tier, TierName } from "./tier";

export interface Tiers {
  edge: Tier;
  kv: Tier;
}

export async function storageKey(key: string, host: string): Promise<StorageKey> {
  return { key, hash: await hashKey(key), host };
}

export interface Found {
  meta: ResponseMeta;
  body: ReadableStream<Uint8Array> | null;
  tier: TierName;
  /** Where the response itself lives (the variant key under Vary). */
  at: StorageKey;
  /** The Vary index it was found through, if any. */
  vary: VaryMeta | null;
}

/** Seconds an entry still has to live in a tier, counted from its storing. */
export function remainingRetention(meta: ResponseMeta, now: number): number {
  return retentionSeconds(meta.lifetimes) - (now - meta.storedAt) / 1000;
}

async function lookupIn(tier: Tier, primary: StorageKey, requestHeaders: Headers): Promise<Found | null> {
  const first = await tier.get(primary);
  if (!first) return null;
  if (first.meta.kind === "response") {
    return { meta: first.meta, body: first.body, tier: tier.name, at: primary, vary: null };
  }
  const vary = first.meta;
  const at = await storageKey(variantKey(primary.key, vary.vary, requestHeaders), primary.host);
  const second = await tier.get(at);
  if (!second || second.meta.kind !== "response") {
    await second?.body?.cancel();
    return null;
  }
  return { meta: second.meta, body: second.body, tier: tier.name, at, vary };
}

/**
 * Edge first, then KV. A KV hit is copied back into the edge in the background
 * (`background` is the caller's waitUntil), with its remaining lifetime.
 */
export async function lookup(
  tiers: Tiers,
  primary: StorageKey,
  requestHeaders: Headers,
  opts: { edge: boolean; kv: boolean; now: number; background: (p: Promise<unknown>) => void },
): Promise<Found | null> {
  if (opts.edge) {
    const hit = await lookupIn(tiers.edge, primary, requestHeaders);
    if (hit) return hit;
  }
  if (!opts.kv) return null;
  const hit = await lookupIn(tiers.kv, primary, requestHeaders);
  if (!hit || !opts.edge) return hit;
  const retention = remainingRetention(hit.meta, opts.now);
  if (retention <= 1 || !hit.body) return hit;
  const [forClient, forEdge] = hit.body.tee();
  opts.background(
    (async () => {
      if (hit.vary) await tiers.edge.put(primary, hit.vary, null, retention);
      await tiers.edge.put(hit.at, hit.meta, forEdge, retention);
    })(),
  );
  return { ...hit, body: forClient };
}

export interface StorePlan {
  /** Seconds to keep in each tier; 0 = not in that tier. */
  edge: number;
  kv: number;
}

/**
 * Writes one entry (and its Vary index) into the planned tiers, streaming one body
 * into each. Resolves with the tiers that accepted the whole body.
 */
export async function storeEntry(
  tiers: Tiers,
  plan: StorePlan,
  primary: StorageKey,
  vary: VaryMeta | null,
  at: StorageKey,
  meta: EntryMeta,
  body: ReadableStream<Uint8Array> | null,
): Promise<TierName[]> {
  const targets = ([["edge", plan.edge], ["kv", plan.kv]] as const).filter(([, s]) => s > 0);
  if (targets.length === 0) {
    await body?.cancel();
    return [];
  }
  const bodies: (ReadableStream<Uint8Array> | null)[] = [];
  let rest = body;
  for (let i = 0; i < targets.length; i++) {
    if (rest && i < targets.length - 1) {
      const [a, b] = rest.tee();
      bodies.push(a);
      rest = b;
    } else bodies.push(rest);
  }
  const results = await Promise.all(
    targets.map(async ([name, seconds], i) => {
      const tier = tiers[name];
      // The variant first: an index that points at nothing is a wasted lookup.
      const ok = await tier.put(at, meta, bodies[i] ?? null, seconds);
      if (ok && vary) await tier.put(primary, vary, null, seconds);
      return ok ? name : null;
    }),
  );
  return results.filter((n): n is TierName => n !== null);
}
