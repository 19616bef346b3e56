/**
 * Fetching for the cache, and the one store step. Every path that may keep an origin
 * answer (a miss, a foreground revalidation, a background refresh) asks for the
 * verdict, calls `store` with it, and only chooses the Cache-Status it reports from
 * the outcome. Whether to store is decided by policy/; here it is done, streamed, in
 * the background (`ctx.waitUntil`).
 */
import { declaredLength, stripHopByHop } from "../http/headers";
import { fetchOrigin, noteSent, originUrl } from "../http/origin";
import { retentionSeconds, storeVerdict, type NoStoreReason, type StoreVerdict } from "../policy/freshness";
import { forwardHeaders } from "../policy/forwarding";
import { responseTags } from "../policy/tags";
import { variantKey, varyNames } from "../policy/vary";
import type { RouteTiers } from "../rules/types";
import type { ShieldRole } from "../shield/client";
import type { Ctx } from "./context";
import { gatedFetch } from "./origin-gate";
import { kvAdmits } from "./kv-admission";
import { buildRoutes } from "../builds/watch";
import { purgeHorizonMs } from "../purge/horizon";
import { ENTRY_VERSION, type ResponseMeta, type VaryMeta } from "../tiers/entry";
import { KV_MAX_BODY } from "../tiers/kv";
import type { StorageKey } from "../tiers/tier";
import { storageKey, storeEntry, type StorePlan } from "../tiers/two-tier";

/** Request fields the cache answers itself from the whole entry; the origin never sees the client's. */
const CLIENT_CONDITIONALS = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"];

export interface Fetched {
  res: Response;
  requestTime: number;
  responseTime: number;
  /** Through the shield: "leader" stores in every tier, "follower" leaves KV to the leader. */
  shield?: ShieldRole;
  /** Asked of the route's fallback origin: the origin is down. */
  fallback?: true;
}

/** Fetches the whole GET representation for the cache (a HEAD miss fills the GET entry, as Varnish does), through the origin's health gate. */
export async function fetchForCache(c: Ctx, validators: readonly [string, string][] = []): Promise<Fetched> {
  const headers = forwardHeaders(c.request.headers, c.route.key, c.dimensions);
  for (const name of CLIENT_CONDITIONALS) headers.delete(name);
  for (const [k, v] of validators) headers.set(k, v);
  const t0 = Date.now();
  try {
    const fetched = await gatedFetch(c, (origin) => fetchFrom(c, origin, headers, validators.length > 0));
    noteBuild(c, fetched.res.headers);
    return fetched;
  } finally {
    c.rec.time("origin", Date.now() - t0);
  }
}

async function fetchFrom(c: Ctx, origin: string | null, headers: Headers, conditional: boolean): Promise<Fetched> {
  const requestTime = c.deps.clock.now();
  const url = originUrl(origin, c.target);
  noteSent(c.request);
  // Misses of a shielded route ask the key's shield; revalidations (validators) go straight to the origin.
  if (c.route.shield && c.deps.shield && !conditional) {
    const got = await c.deps.shield(c.primary.key, { url, headers, timeoutMs: c.route.originTimeoutMs });
    if (got) {
      c.rec.originStatus = got.res.status;
      return { res: got.res, requestTime, responseTime: c.deps.clock.now(), shield: got.role };
    }
  }
  const res = await fetchOrigin({ url, method: "GET", headers, body: null, timeoutMs: c.route.originTimeoutMs }, c.deps.clock);
  c.rec.originStatus = res.status;
  return { res, requestTime, responseTime: c.deps.clock.now() };
}

/** The route's `buildHeader` in an origin answer: a new value makes older entries stale (src/builds). */
function noteBuild(c: Ctx, headers: Headers): void {
  const header = c.route.buildHeader;
  const value = header && c.deps.builds ? headers.get(header) : null;
  if (!header || !value) return;
  const sighting = { header, value, routes: buildRoutes(c.rules.routes, header), horizonMs: purgeHorizonMs(c.rules) };
  c.deps.builds!.seen(sighting, (p) => c.exec.waitUntil(p));
}

/** The store verdict for an origin answer to this request (all the checks live in policy/storable). */
export function verdictFor(c: Ctx, f: Pick<Fetched, "requestTime" | "responseTime">, status: number, headers: Headers): StoreVerdict {
  return storeVerdict(c.route, {
    status,
    headers,
    requestTime: f.requestTime,
    responseTime: f.responseTime,
    authorized: c.request.headers.has("authorization"),
    request: { headers: c.request.headers, path: c.target.pathname },
  });
}

/** Seconds to keep the entry in each tier the route uses; 0 = not there. */
function storePlan(tiers: RouteTiers, kvTtl: number, verdict: Extract<StoreVerdict, { store: true }>, size: number | null): StorePlan {
  return {
    edge: tiers.edge ? retentionSeconds(verdict.lifetimes) : 0,
    // Known to be too large for KV: no branch for it at all, so nothing buffers for it.
    kv: !tiers.kv || (size !== null && size > KV_MAX_BODY) ? 0 : kvTtl,
  };
}

/** An answer to keep: a new one from the origin, or a stored one refreshed by a 304. */
export interface Answer {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** When the origin answered (ms): the entry's `storedAt`, which purges compare against. */
  responseTime: number;
  /** Declared body length, null when unknown. */
  size: number | null;
}

/**
 * Where the entry goes: a new answer finds its place from its own Vary (joining the
 * epoch of the Vary index the lookup found, if any); a refreshed one keeps its place.
 */
type Place = { index: VaryMeta | null } | { at: StorageKey; vary: VaryMeta | null };

type StoreReason = NoStoreReason | "variant-cap" | "no-tier";

export type StoreOutcome =
  | {
      stored: true;
      /** The client's copy of the body. */
      body: ReadableStream<Uint8Array> | null;
      /** Resolves true when some tier holds the whole entry. */
      done: Promise<boolean>;
      /** Freshness lifetime the entry was stored with, seconds (Cache-Status `ttl`). */
      ttl: number;
      /** The entry as stored: what a refreshed answer is delivered from. */
      meta: ResponseMeta;
    }
  | { stored: false; reason: StoreReason };

/**
 * The store step: when the verdict allows it and a tier will have it, streams the
 * answer into the route's tiers in the background and returns the client's copy of
 * the body. When it does not store, the answer's body is left untouched for the caller.
 */
export async function store(c: Ctx, verdict: StoreVerdict, tiers: RouteTiers, answer: Answer, place: Place): Promise<StoreOutcome> {
  if (!verdict.store) return { stored: false, reason: verdict.reason };
  const plan = storePlan(tiers, c.route.ttl.kv, verdict, answer.size);
  // A new answer goes to KV once it has been requested `kv.minHits` times here (kv-admission.ts).
  if (plan.kv > 0 && !("at" in place) && !kvAdmits(c, { storedAt: answer.responseTime, lifetimes: verdict.lifetimes })) plan.kv = 0;
  if (plan.edge === 0 && plan.kv === 0) return { stored: false, reason: "no-tier" };
  const headers = stripHopByHop(answer.headers);
  if (verdict.stripSetCookie) headers.delete("set-cookie");
  const tags = [...new Set([...c.route.tags, ...responseTags(answer.headers)])];
  const base = { v: ENTRY_VERSION, storedAt: answer.responseTime, route: c.route.name, tags } as const;

  let vary: VaryMeta | null = null;
  let at = c.primary;
  if ("at" in place) ({ at, vary } = place);
  else {
    const names = varyNames(answer.headers);
    if (names) {
      const same = place.index && place.index.vary.join() === names.join() ? place.index : null;
      // RFC 9111 §4.1 lets a cache keep as many variants as it likes; past the cap, pass.
      if (same && same.variants >= c.route.maxVariants) return { stored: false, reason: "variant-cap" };
      vary = {
        ...base,
        kind: "vary",
        key: c.primary.key,
        vary: names,
        epoch: same?.epoch ?? answer.responseTime,
        variants: (same?.variants ?? 0) + 1,
      };
      at = await storageKey(variantKey(c.primary.key, vary.epoch, names, c.variantHeaders), c.primary.host);
    }
  }
  const meta: ResponseMeta = {
    ...base,
    kind: "response",
    key: at.key,
    status: answer.status,
    headers: [...headers],
    lifetimes: verdict.lifetimes,
    size: answer.size,
  };
  let client: ReadableStream<Uint8Array> | null = null;
  let toStore: ReadableStream<Uint8Array> | null = null;
  if (answer.body) [client, toStore] = answer.body.tee();
  const checked = toStore && checkedBody(toStore, meta.size);
  const done = storeEntry(c.deps.tiers, plan, c.primary, vary, at, meta, checked?.body ?? null).then(async (kept) => {
    // A cut-off body must never stay stored as complete, whatever the tier accepted.
    if (checked && !(await checked.whole)) {
      await Promise.all(kept.map((t) => c.deps.tiers[t].delete(at)));
      return false;
    }
    return kept.length > 0;
  });
  c.exec.waitUntil(done);
  return { stored: true, body: client, done, ttl: verdict.lifetimes.lifetime, meta };
}

/** A new origin answer as the store step takes it. */
export function answerOf(fetched: Fetched): Answer {
  const { res } = fetched;
  return { status: res.status, headers: res.headers, body: res.body, responseTime: fetched.responseTime, size: declaredLength(res.headers) };
}

/**
 * A body on its way into storage, and whether it arrived whole: exactly the declared
 * Content-Length, and no error from the origin. The runtime's own streams carry it
 * (a JavaScript transform would fall behind the client's branch of the tee and make
 * it buffer the body), and the verdict comes from the pipe itself, because a tier may
 * accept a stream that ended early: the caller deletes what it stored when not whole.
 */
function checkedBody(
  body: ReadableStream<Uint8Array>,
  declaredLength: number | null,
): { body: ReadableStream<Uint8Array>; whole: Promise<boolean> } {
  const through = declaredLength === null ? new IdentityTransformStream() : new FixedLengthStream(declaredLength);
  const whole = body.pipeTo(through.writable).then(
    () => true,
    () => false,
  );
  return { body: through.readable as ReadableStream<Uint8Array>, whole };
}
