/**
 * Fetching for the cache, and the one store step. Every path that may keep an origin
 * answer (a miss, a foreground revalidation, a background refresh) asks for the
 * verdict, calls `store` with it, and only chooses the Cache-Status it reports from
 * the outcome. Whether to store is decided by policy/; here it is done, streamed, in
 * the background (`ctx.waitUntil`).
 */
import { declaredLength, stripHopByHop } from "../http/headers";
import { fetchOrigin, noteSent, originUrl } from "../http/origin";
import { teeBody } from "../http/tee";
import { retentionSeconds, storeVerdict, type NoStoreReason, type StoreVerdict } from "../policy/freshness";
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
  // The very headers the variant was selected on (Ctx.variantHeaders), plus our validators.
  const headers = new Headers(c.variantHeaders);
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
    const ask = { url, headers, timeoutMs: c.route.originTimeoutMs, sentAt: requestTime };
    let got = await c.deps.shield(c.primary.key, ask);
    // An answer this request may not use is rejected once: the shield then starts a newer
    // flight (which every caller rejecting the same answer joins); a second miss goes direct.
    for (let asked = 1; got && !(await usable(c, got, requestTime)); asked++) {
      await got.res.body?.cancel();
      got = asked < 2 ? await c.deps.shield(c.primary.key, { ...ask, reject: got.generation }) : null;
    }
    if (got) {
      c.rec.originStatus = got.res.status;
      return { res: got.res, requestTime: got.sentAt, responseTime: c.deps.clock.now(), shield: got.role };
    }
  }
  const res = await fetchOrigin({ url, method: "GET", headers, body: null, timeoutMs: c.route.originTimeoutMs }, c.deps.clock);
  c.rec.originStatus = res.status;
  return { res, requestTime, responseTime: c.deps.clock.now() };
}

/**
 * Whether this request may take an answer the origin was asked for before it was sent
 * (a flight it joined, or one the shield held): not when a purge since then covers it,
 * and a held one only while this route would store it as fresh (RFC 9111 §4.2).
 */
async function usable(c: Ctx, got: { res: Response; sentAt: number; held: boolean }, requestTime: number): Promise<boolean> {
  if (got.sentAt >= requestTime) return true;
  const { sentAt, res } = got;
  if (c.deps.purges) {
    const entry = { storedAt: sentAt, requestedAt: sentAt, route: c.route.name, tags: [...c.route.tags, ...responseTags(res.headers)] };
    if ((await c.deps.purges.verdict(entry, c.target, (p) => c.exec.waitUntil(p))) !== null) return false;
  }
  if (!got.held) return true;
  const now = c.deps.clock.now();
  const verdict = verdictFor(c, { requestTime: sentAt, responseTime: now }, res.status, res.headers);
  // A rule's lifetime counts from the origin fetch too (the verdict itself starts it at storing).
  return verdict.store && verdict.lifetimes.lifetime > Math.max(verdict.lifetimes.initialAge, (now - sentAt) / 1000);
}

/** The route's `buildHeader` in an origin answer: a new value makes older entries stale (src/builds). */
function noteBuild(c: Ctx, headers: Headers): void {
  const header = c.route.buildHeader;
  const value = header && c.deps.builds ? headers.get(header) : null;
  if (!header || !value) return;
  // The scope is worked out only when the watch asks the coordinator: almost every answer carries the known build.
  const scope = () => ({ routes: buildRoutes(c.rules.routes, header), horizonMs: purgeHorizonMs(c.rules) });
  c.deps.builds!.seen(header, value, scope, (p) => c.exec.waitUntil(p));
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

/** Seconds to keep the entry in each tier the route uses (0 = not there), and whether its size alone kept it out of one. */
function storePlan(c: Ctx, tiers: RouteTiers, verdict: Extract<StoreVerdict, { store: true }>, size: number | null): { plan: StorePlan; tooLarge: boolean } {
  const edgeMaxBytes = c.route.maxObjectSize.edge;
  // Known to be too large for a tier: no branch for it at all, so nothing buffers for it.
  const edgeTooLarge = tiers.edge && size !== null && edgeMaxBytes !== null && size > edgeMaxBytes;
  const kvTooLarge = tiers.kv && size !== null && size > KV_MAX_BODY;
  return {
    plan: {
      edge: tiers.edge && !edgeTooLarge ? retentionSeconds(verdict.lifetimes) : 0,
      kv: tiers.kv && !kvTooLarge ? c.route.ttl.kv : 0,
      // A body of unknown length is counted on its way into the edge and abandoned past the limit.
      edgeMaxBytes,
    },
    tooLarge: edgeTooLarge || kvTooLarge,
  };
}

/** An answer to keep: a new one from the origin, or a stored one refreshed by a 304. */
export interface Answer {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** When the origin answered (ms): the entry's `storedAt`, which age counts from. */
  responseTime: number;
  /** When the origin request was sent (ms): the entry's `requestedAt`, which purges compare against. */
  requestTime: number;
  /** Declared body length, null when unknown. */
  size: number | null;
}

/**
 * Where the entry goes: a new answer finds its place from its own Vary (joining the
 * epoch of the Vary index the lookup found, if any); a refreshed one keeps its place.
 */
type Place = { index: VaryMeta | null } | { at: StorageKey; vary: VaryMeta | null };

type StoreReason = NoStoreReason | "variant-cap" | "no-tier" | "object-too-large";

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
  const { plan, tooLarge } = storePlan(c, tiers, verdict, answer.size);
  // A new answer goes to KV once it has been requested `kv.minHits` times here (kv-admission.ts).
  if (plan.kv > 0 && !("at" in place) && !kvAdmits(c, { storedAt: answer.responseTime, lifetimes: verdict.lifetimes })) plan.kv = 0;
  if (plan.edge === 0 && plan.kv === 0) return { stored: false, reason: tooLarge ? "object-too-large" : "no-tier" };
  const headers = stripHopByHop(answer.headers);
  if (verdict.stripSetCookie) headers.delete("set-cookie");
  const tags = [...new Set([...c.route.tags, ...responseTags(answer.headers)])];
  const base = { v: ENTRY_VERSION, storedAt: answer.responseTime, requestedAt: answer.requestTime, route: c.route.name, tags } as const;

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
  // The client's branch and the store's, checked against the declared length (http/tee.ts).
  const teed = answer.body && teeBody(answer.body, meta.size);
  const client = teed ? teed.branches[0] : null;
  const checked = teed && { body: teed.branches[1], whole: teed.whole };
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
  const { res, requestTime, responseTime } = fetched;
  return { status: res.status, headers: res.headers, body: res.body, requestTime, responseTime, size: declaredLength(res.headers) };
}
