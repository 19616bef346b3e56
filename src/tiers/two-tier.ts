/**
 * Both tiers as one store: lookup edge then KV (following a Vary index to the
 * variant), refill the edge from a KV hit, and stream one body into every tier
 * that should hold it.
 */
import { byteLimit } from "../http/byte-limit";
import { teeBody } from "../http/tee";
import { hashKey } from "../policy/cache-key";
import { retentionSeconds } from "../policy/freshness";
import { indexSeconds, variantKey } from "../policy/vary";
import type { EntryMeta, ResponseMeta, VaryMeta } from "./entry";
import type { StorageKey, Tier, TierName } from "./tier";

export interface Tiers {
  edge: Tier;
  kv: Tier;
}

/** Longest encoded key that is its own storage name: `e:` and this fit KV's 512-byte keys. */
const MAX_PLAIN_NAME = 400;

/**
 * Where a key's entry lives. A short key is its own name, percent-encoded (so safe in
 * a URL path and a KV key) and prefixed with `k`, which no hex digest starts with: no
 * hashing on the hot path, and no collisions at all. A longer one is named by its
 * SHA-256. Either way the entry keeps the readable key and is checked against it on read.
 */
export async function storageKey(key: string, host: string): Promise<StorageKey> {
  const plain = encodeURIComponent(key);
  return { key, hash: plain.length < MAX_PLAIN_NAME ? `k${plain}` : await hashKey(key), host };
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
function remainingRetention(meta: ResponseMeta, now: number): number {
  return retentionSeconds(meta.lifetimes) - (now - meta.storedAt) / 1000;
}

/**
 * Seconds to keep a Vary index written beside an entry kept `seconds`: until its
 * last variant's mark ends (policy/vary), so it outlives every variant it lists.
 */
function indexRetention(index: VaryMeta, seconds: number, now: number): number {
  return Math.max(seconds, indexSeconds(index.marks ?? [], now / 1000));
}

/** What one tier holds for a request: the response, and the Vary index it was found through (if any). */
interface TierLookup {
  found: Found | null;
  index: VaryMeta | null;
}

/** The request headers Vary selects on; a function when they are made only if a Vary index is found. */
type SelectingHeaders = Headers | (() => Headers);

async function lookupIn(tier: Tier, primary: StorageKey, requestHeaders: SelectingHeaders): Promise<TierLookup> {
  const first = await tier.get(primary);
  if (!first) return { found: null, index: null };
  if (first.meta.kind === "response") {
    return { found: { meta: first.meta, body: first.body, tier: tier.name, at: primary, vary: null }, index: null };
  }
  // Only a Vary index is followed; a set of pieces lives at its own key (pipeline/partial.ts), never here.
  if (first.meta.kind !== "vary") {
    await first.body?.cancel();
    return { found: null, index: null };
  }
  const index = first.meta;
  const headers = typeof requestHeaders === "function" ? requestHeaders() : requestHeaders;
  const at = await storageKey(variantKey(primary.key, index.epoch, index.vary, headers), primary.host);
  const second = await tier.get(at);
  if (!second || second.meta.kind !== "response") {
    await second?.body?.cancel();
    return { found: null, index };
  }
  return { found: { meta: second.meta, body: second.body, tier: tier.name, at, vary: index }, index };
}

interface LookupOptions {
  edge: boolean;
  kv: boolean;
  now: number;
  /** The caller's waitUntil, for the edge refill. */
  background: (p: Promise<unknown>) => void;
  /** Hears how long each tier took, ms (wall time: a measurement, not a decision). */
  timed?: (tier: TierName, ms: number) => void;
  /** The route's `maxObjectSize.edge`: a KV hit larger than this is not copied into the edge. */
  edgeMaxBytes?: number | null;
}

/**
 * Edge first, then KV. A KV hit is copied back into the edge in the background,
 * with its remaining lifetime. On a miss, `index` is the Vary index either tier had:
 * the next store for this URL joins its epoch.
 */
export async function lookup(tiers: Tiers, primary: StorageKey, requestHeaders: SelectingHeaders, opts: LookupOptions): Promise<TierLookup> {
  const timedLookup = async (tier: Tier) => {
    const t0 = Date.now();
    const result = await lookupIn(tier, primary, requestHeaders);
    opts.timed?.(tier.name, Date.now() - t0);
    return result;
  };
  let index: VaryMeta | null = null;
  if (opts.edge) {
    const edge = await timedLookup(tiers.edge);
    if (edge.found) return edge;
    index = edge.index;
  }
  if (!opts.kv) return { found: null, index };
  const kv = await timedLookup(tiers.kv);
  const hit = kv.found;
  if (!hit || !opts.edge) return { found: hit, index: index ?? kv.index };
  const retention = remainingRetention(hit.meta, opts.now);
  const maxBytes = opts.edgeMaxBytes ?? null;
  const tooLarge = maxBytes !== null && hit.meta.size !== null && hit.meta.size > maxBytes;
  if (retention <= 1 || !hit.body || tooLarge) return kv;
  // A KV body may be JavaScript-built (an envelope): http/tee.ts keeps a slow client from making the edge copy buffer it.
  const { branches: [forClient, forEdge], whole } = teeBody(hit.body, hit.meta.size);
  opts.background(
    (async () => {
      if (hit.vary) await tiers.edge.put(primary, hit.vary, null, indexRetention(hit.vary, retention, opts.now));
      const kept = await putEdge(tiers.edge, hit.at, hit.meta, forEdge, retention, maxBytes);
      if (kept && !(await whole)) await tiers.edge.delete(hit.at);
    })(),
  );
  return { found: { ...hit, body: forClient }, index: kv.index };
}

/**
 * The edge's copy of a body, held to `maxBytes`. A declared length over it never gets
 * here (the caller leaves the edge out); an unknown one is counted on the way and
 * errors past it. The Cache API may still keep what it got before the error, so the
 * caller deletes the entry when `over()`: abandoned, never stored cut short.
 */
function edgeBound(body: ReadableStream<Uint8Array> | null, meta: EntryMeta, maxBytes: number | null) {
  const declared = meta.kind === "response" ? meta.size : null;
  if (!body || maxBytes === null || declared !== null) return { body, over: () => false };
  return byteLimit(body, maxBytes, `body over maxObjectSize.edge (${maxBytes} bytes): not kept at the edge`);
}

/** Puts into the edge through `edgeBound`; true only when the whole body is kept. */
async function putEdge(edge: Tier, at: StorageKey, meta: EntryMeta, body: ReadableStream<Uint8Array> | null, seconds: number, maxBytes: number | null): Promise<boolean> {
  const bound = edgeBound(body, meta, maxBytes);
  const ok = await edge.put(at, meta, bound.body, seconds);
  if (!bound.over()) return ok;
  // The write was abandoned. The local Cache API still commits what it had read, and
  // may do so after the put has already rejected: delete, look again, delete again.
  await edge.delete(at);
  const late = await edge.get(at);
  if (late) {
    await late.body?.cancel();
    await edge.delete(at);
  }
  return false;
}

export interface StorePlan {
  /** Seconds to keep in each tier; 0 = not in that tier. */
  edge: number;
  kv: number;
  /** The route's `maxObjectSize.edge`: a body of unknown length past it is not kept at the edge (null = no limit). */
  edgeMaxBytes: number | null;
}

/**
 * Writes one entry (and its Vary index, when given: the store step leaves out an
 * index that would not change) into the planned tiers, streaming one body into
 * each. Resolves with the tiers that accepted the whole body.
 */
export async function storeEntry(
  tiers: Tiers,
  plan: StorePlan,
  primary: StorageKey,
  vary: VaryMeta | null,
  at: StorageKey,
  meta: EntryMeta,
  body: ReadableStream<Uint8Array> | null,
  /** Told as each tier finishes holding the entry (its Vary index included), before the others. */
  kept?: (tier: TierName) => void,
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
      // `body` is a branch of the store step's native tee (http/tee.ts): its own tee is bounded too.
      const [a, b] = rest.tee();
      bodies.push(a);
      rest = b;
    } else bodies.push(rest);
  }
  const results = await Promise.all(
    targets.map(async ([name, seconds], i) => {
      const tier = tiers[name];
      const body = bodies[i] ?? null;
      // The variant first: an index that points at nothing is a wasted lookup.
      const ok = name === "edge" ? await putEdge(tier, at, meta, body, seconds, plan.edgeMaxBytes) : await tier.put(at, meta, body, seconds);
      if (ok && vary) await tier.put(primary, vary, null, indexRetention(vary, seconds, vary.storedAt));
      if (ok) kept?.(name);
      return ok ? name : null;
    }),
  );
  return results.filter((n): n is TierName => n !== null);
}

/**
 * The body just stored, for a detached client: from the tier that held it first once
 * one does, else (it was gone, or replaced by another store) from the others once all
 * have ended; null when no tier has this very entry.
 */
export async function readBack(tiers: Tiers, at: StorageKey, meta: ResponseMeta, ends: Promise<boolean>[], kept: readonly TierName[]): Promise<ReadableStream<Uint8Array> | null> {
  const tried = new Set<TierName>();
  for (const end of ends) {
    if (!(await end.catch(() => false))) return null;
    for (const tier of kept.filter((t) => !tried.has(t))) {
      tried.add(tier);
      const got = await tiers[tier].get(at);
      if (got?.body && got.meta.kind === "response" && got.meta.storedAt === meta.storedAt && got.meta.size === meta.size) return got.body;
      await got?.body?.cancel();
    }
  }
  return null;
}
