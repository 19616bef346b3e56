/**
 * Fetching for the cache, and the one store step. Every path that may keep an origin
 * answer (a miss, a foreground revalidation, a background refresh) asks for the
 * verdict, calls `store` with it, and only chooses the Cache-Status it reports from
 * the outcome. Whether to store is decided by policy/; here it is done, streamed, in
 * the background (`ctx.waitUntil`).
 */
import { declaredLength, stripHopByHop } from "../http/headers";
import { fetchOrigin, noteSent, originUrl } from "../http/origin";
import { detachWhenLagging } from "../http/lagging-client";
import { teeBody } from "../http/tee";
import { retentionSeconds, storeVerdict, type NoStoreReason, type StoreVerdict } from "../policy/freshness";
import { formatHttpDate, parseHttpDate } from "../policy/http-date";
import { responseTags } from "../policy/tags";
import { admitVariant, variantId, variantKey, varyNames } from "../policy/vary";
import type { RouteTiers } from "../rules/types";
import type { ShieldRole } from "../shield/client";
import type { AskedFor } from "../shield/protocol";
import type { Ctx } from "./context";
import { gatedFetch } from "./origin-gate";
import { kvAdmits } from "./kv-admission";
import { buildRoutes } from "../builds/watch";
import { purgeHorizonMs } from "../purge/horizon";
import { ENTRY_VERSION, type ResponseMeta, type VaryMeta } from "../tiers/entry";
import { KV_MAX_BODY } from "../tiers/kv";
import type { StorageKey, TierName } from "../tiers/tier";
import { readBack, storageKey, storeEntry, type StorePlan } from "../tiers/two-tier";

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
    // flight (which every caller rejecting the same answer joins); a second miss goes direct,
    // and so does a request whose own verdict forbids taking it (that is no fault of the answer).
    for (let asked = 1; got; asked++) {
      const use = await usable(c, got);
      if (use === "take") break;
      await got.res.body?.cancel();
      got = use === "reject" && asked < 2 ? await c.deps.shield(c.primary.key, { ...ask, reject: got.generation }) : null;
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
 * Whether this request may take an answer from another request's flight (one it
 * joined, or one the shield held). Taking it is storing it for this request, so the
 * store verdict decides, for this request and for the one the answer was fetched for
 * (RFC 9111 §3.5, §5.2.1.5): "fetch" when this request's own verdict forbids it,
 * "reject" when the answer's does, when a purge since it was fetched covers it, or
 * when a held one is no longer fresh by this route (RFC 9111 §4.2).
 */
async function usable(c: Ctx, got: { res: Response; role: ShieldRole; sentAt: number; held: boolean; askedFor: AskedFor }): Promise<"take" | "reject" | "fetch"> {
  if (got.role !== "follower") return "take";
  const { sentAt, res } = got;
  const now = c.deps.clock.now();
  const fetched = { requestTime: sentAt, responseTime: now };
  const verdict = verdictFor(c, fetched, res.status, res.headers);
  if (!verdict.store) return "fetch";
  const cacheControl = got.askedFor.cacheControl;
  const asked = { authorized: got.askedFor.authorized, headers: new Headers(cacheControl === null ? {} : { "cache-control": cacheControl }) };
  if (!verdictFor(c, fetched, res.status, res.headers, asked).store) return "reject";
  if (c.deps.purges) {
    const entry = { storedAt: sentAt, requestedAt: sentAt, route: c.route.name, tags: [...c.route.tags, ...responseTags(res.headers)] };
    if ((await c.deps.purges.verdict(entry, c.target, (p) => c.exec.waitUntil(p))) !== null) return "reject";
  }
  // A rule's lifetime counts from the origin fetch too (the verdict itself starts it at storing).
  const { lifetime, initialAge } = verdict.lifetimes;
  return !got.held || lifetime > Math.max(initialAge, (now - sentAt) / 1000) ? "take" : "reject";
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

/**
 * The store verdict for an origin answer to this request (all the checks live in
 * policy/storable), or to `asked`: what the verdict reads of another request for the same key.
 */
export function verdictFor(
  c: Ctx,
  f: Pick<Fetched, "requestTime" | "responseTime">,
  status: number,
  headers: Headers,
  asked: { authorized: boolean; headers: Headers } = { authorized: c.request.headers.has("authorization"), headers: c.request.headers },
): StoreVerdict {
  return storeVerdict(c.route, {
    status,
    headers,
    requestTime: f.requestTime,
    responseTime: f.responseTime,
    authorized: asked.authorized,
    request: { headers: asked.headers, path: c.target.pathname },
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
      /** Resolves when every tier's write has ended: true when some tier holds the whole entry. */
      done: Promise<boolean>;
      /**
       * Resolves true as soon as one tier holds the whole entry (false when none will):
       * what a collapsed request waits for, so a slow second tier (a KV put) holds no one back.
       */
      readable: Promise<boolean>;
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
  // RFC 9110 §6.6.1: what is kept without a valid Date is dated when received; that is
  // the date a conditional request is then evaluated against (§13.2.2).
  if (parseHttpDate(headers.get("date"), answer.responseTime) === null) headers.set("date", formatHttpDate(answer.responseTime));
  const dropped = (invalid: string[]) => c.deps.log({ msg: "tags-dropped", route: c.route.name, url: c.target.href, tags: invalid });
  const tags = [...new Set([...c.route.tags, ...responseTags(answer.headers, dropped)])];
  const base = { v: ENTRY_VERSION, storedAt: answer.responseTime, requestedAt: answer.requestTime, route: c.route.name, tags } as const;

  // The Vary index the entry is listed in (null: no Vary), and what of it to write (null: nothing).
  let index: VaryMeta | null = null;
  let at = c.primary;
  if ("at" in place) ({ at, vary: index } = place);
  else {
    const names = varyNames(answer.headers);
    if (names) {
      const same = place.index && place.index.vary.join() === names.join() ? place.index : null;
      index = same ?? { ...base, kind: "vary", key: c.primary.key, vary: names, epoch: answer.responseTime, variants: 0 };
      at = await storageKey(variantKey(c.primary.key, index.epoch, names, c.variantHeaders), c.primary.host);
    }
  }
  let vary: VaryMeta | null = null;
  if (index) {
    // RFC 9111 §4.1 lets a cache keep as many variants as it likes: the cap counts distinct ones (policy/vary).
    const keep = Math.max(plan.edge, plan.kv);
    const admitted = admitVariant(index.marks ?? [], await variantId(at.key), Math.floor(base.storedAt / 1000), keep, c.route.maxVariants, "at" in place);
    if (!admitted.store) return { stored: false, reason: "variant-cap" };
    if (admitted.marks) vary = { ...index, ...base, variants: admitted.marks.length, marks: admitted.marks };
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
  const checked = teed && { body: teed.branches[1], whole: teed.whole };
  let readable!: (ok: boolean) => void;
  const first = new Promise<boolean>((r) => (readable = r));
  const whole = checked ? checked.whole : Promise.resolve(true);
  const keptIn: TierName[] = [];
  const onKept = (tier: TierName) => {
    keptIn.push(tier);
    void whole.then((ok) => ok && readable(true));
  };
  // A client that lags past a bound is detached from the tee and reads the rest from the tier (http/lagging-client.ts).
  const client =
    teed &&
    detachWhenLagging(teed.branches[0], {
      length: meta.size,
      // A body of unknown length may outgrow what the tiers take (KV's 25 MiB, maxObjectSize.edge): its rest might be nowhere.
      detachable: meta.size !== null || (plan.edge > 0 && plan.edgeMaxBytes === null),
      stored: () => readBack(c.deps.tiers, at, meta, [first, done], keptIn),
      detached: (offset) => c.deps.log({ msg: "client-detached", route: c.route.name, url: c.target.href, offset }),
    });
  const done = storeEntry(c.deps.tiers, plan, c.primary, vary, at, meta, checked?.body ?? null, onKept).then(async (kept) => {
    // A cut-off body must never stay stored as complete, whatever the tier accepted.
    if (!(await whole)) {
      await Promise.all(kept.map((t) => c.deps.tiers[t].delete(at)));
      return false;
    }
    return kept.length > 0;
  });
  void done.then(readable, () => readable(false));
  c.exec.waitUntil(done);
  return { stored: true, body: client, done, readable: first, ttl: verdict.lifetimes.lifetime, meta };
}

/** A new origin answer as the store step takes it. */
export function answerOf(fetched: Fetched): Answer {
  const { res, requestTime, responseTime } = fetched;
  return { status: res.status, headers: res.headers, body: res.body, requestTime, responseTime, size: declaredLength(res.headers) };
}
