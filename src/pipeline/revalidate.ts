/**
 * Using a stale entry (RFC 9111 §4.3, RFC 5861): ask the origin conditionally; an
 * accepted 304 refreshes the entry, a new answer replaces it, and when the origin
 * fails the stale entry is served if its stale-if-error window allows. A 5xx never
 * replaces a good entry. The foreground and background paths share the 304 rule
 * (policy/not-modified) and the store step; they differ only in what they report.
 */
import { clientAcceptEncoding } from "../http/content-coding";
import type { CacheStatus } from "../http/cache-status";
import { stripHopByHop } from "../http/headers";
import { errorResponse, originFailure } from "../http/respond";
import { freshness, type Lifetimes } from "../policy/freshness";
import { acceptsNotModified, updatedHeaders, validatorsOf } from "../policy/not-modified";
import { unchangedBy304 } from "../policy/unchanged";
import type { Ctx } from "./context";
import { OriginDownError, originDownResponse } from "./origin-gate";
import { deliverFromEntry, deliverFromOrigin } from "./deliver";
import { answerOf, fetchForCache, store, verdictFor, type Fetched, type StoreOutcome } from "./store";
import { deliverHit, lookupTiers } from "./lookup";
import type { ResponseMeta, VaryMeta } from "../tiers/entry";
import { lookup, type Found } from "../tiers/two-tier";

function deliverOptions(c: Ctx, status: CacheStatus) {
  return { method: c.request.method, requestHeaders: c.request.headers, acceptEncoding: clientAcceptEncoding(c.request), browserTtl: c.route.ttl.browser, status };
}

/** §4.2.4 and RFC 5861 §4: may this stale entry answer when the origin fails? */
function staleOnErrorAllowed(l: Lifetimes, ttl: number): boolean {
  return !l.mustRevalidate && -ttl < l.staleIfError;
}

/** §4.3.4: the stored entry with the 304's fields, through the store step, in the place it was found. */
function refresh(c: Ctx, found: Found, notModified: Fetched): Promise<StoreOutcome> {
  const headers = updatedHeaders(new Headers(found.meta.headers), stripHopByHop(notModified.res.headers));
  const verdict = verdictFor(c, notModified, found.meta.status, headers);
  const { requestTime, responseTime } = notModified;
  const answer = { status: found.meta.status, headers, body: found.body, requestTime, responseTime, size: found.meta.size };
  // Unchanged: this location's edge takes the refresh and the KV copy stays as it is (no write).
  const unchanged = c.route.tiers.edge && verdict.store && unchangedBy304(found.meta, { headers, lifetimes: verdict.lifetimes });
  return store(c, verdict, unchanged ? { ...c.route.tiers, kv: false } : c.route.tiers, answer, { at: found.at, vary: found.vary });
}

/** A new answer: stored when the verdict allows it. */
function replace(c: Ctx, fetched: Fetched, index: VaryMeta | null): Promise<StoreOutcome> {
  const { res } = fetched;
  return store(c, verdictFor(c, fetched, res.status, res.headers), c.route.tiers, answerOf(fetched), { index });
}

/**
 * What the requests waiting on a revalidation learn from it (collapse.ts): a new answer
 * `stored` (they read it from the tier), an accepted 304 (`refreshed`: the entry as
 * refreshed, or null when it could not be stored), or the origin's failure (`failed`).
 * Anything else, or no word within the origin timeout: they revalidate themselves.
 */
interface Revalidated {
  stored: boolean;
  refreshed?: { validators: string; meta: ResponseMeta | null };
  failed?: number;
}

/**
 * Stale (or must be validated): revalidate in the foreground, one conditional request
 * per entry per isolate (RFC 9111 §4.3.1 lets one validation serve many requests). The
 * others wait, as collapsed misses do. `index` is the Vary index the lookup found.
 */
export async function revalidate(c: Ctx, found: Found, index: VaryMeta | null): Promise<Response> {
  const flight = c.deps.collapser.join<Revalidated>(`revalidate ${found.at.key}`, c.deps.clock.now());
  if (!flight.leader) {
    const followed = await follow(c, found, await flight.wait(c.route.originTimeoutMs));
    return followed ?? revalidateOnce(c, found, index, () => {});
  }
  let told = false;
  const tell = (o: Revalidated | Promise<Revalidated>) => {
    told = true;
    void Promise.resolve(o).then((outcome) => flight.settle(outcome), () => flight.settle({ stored: false }));
  };
  try {
    return await revalidateOnce(c, found, index, tell);
  } finally {
    if (!told) flight.settle({ stored: false });
  }
}

/** A waiter's answer from the revalidation it waited on; null: it asks the origin itself. */
async function follow(c: Ctx, found: Found, outcome: Revalidated | null): Promise<Response | null> {
  const now = c.deps.clock.now();
  const status = (fwdStatus: number, ttl: number, detail: string): CacheStatus => ({ fwd: "stale", fwdStatus, collapsed: true, ttl, detail });
  const refreshed = outcome?.refreshed;
  // §4.3.4: a 304 refreshes the stored response its validators select: ours only if they are the same.
  if (refreshed && refreshed.validators === validatorsKey(found)) {
    // As the leader delivers it: the refreshed entry (or ours, when that could not be stored), new.
    const meta = refreshed.meta ?? found.meta;
    return deliverFromEntry(meta, found.body, 0, deliverOptions(c, status(304, meta.lifetimes.lifetime, found.tier)));
  }
  const stale = freshness(found.meta.lifetimes, found.meta.storedAt, now);
  if (outcome?.failed !== undefined && staleOnErrorAllowed(found.meta.lifetimes, stale.ttl)) {
    return deliverFromEntry(found.meta, found.body, stale.age, deliverOptions(c, { fwd: "stale", fwdStatus: outcome.failed, ttl: stale.ttl, detail: found.tier }));
  }
  if (outcome?.stored && !refreshed) {
    const { found: fresh } = await lookupTiers(c);
    const f = fresh && freshness(fresh.meta.lifetimes, fresh.meta.storedAt, now);
    if (fresh && f?.state === "fresh") {
      await found.body?.cancel();
      c.rec.tier = fresh.tier;
      return deliverHit(c, fresh, f.age, status(fresh.meta.status, f.ttl, fresh.tier));
    }
    await fresh?.body?.cancel();
  }
  return null;
}

/** The validators an entry is revalidated with, as one comparable value. */
const validatorsKey = (found: Found) => JSON.stringify(validatorsOf(new Headers(found.meta.headers)));

/** One revalidation; `tell` hears what the requests waiting on it may take from it. */
async function revalidateOnce(c: Ctx, found: Found, index: VaryMeta | null, tell: (o: Revalidated | Promise<Revalidated>) => void): Promise<Response> {
  // Judged when the origin has failed, not when we asked: the wait counts against the window.
  const staleNow = () => freshness(found.meta.lifetimes, found.meta.storedAt, c.deps.clock.now());
  const canServeStale = () => staleOnErrorAllowed(found.meta.lifetimes, staleNow().ttl);
  const serveStale = (fwdStatus?: number) => {
    const f = staleNow();
    const detail = fwdStatus === undefined ? "origin-down" : found.tier;
    return deliverFromEntry(found.meta, found.body, f.age, deliverOptions(c, { fwd: "stale", fwdStatus, ttl: f.ttl, detail }));
  };
  const stored = new Headers(found.meta.headers);
  const validators = validatorsOf(stored);
  let fetched: Fetched;
  let accepted = false;
  try {
    fetched = await fetchForCache(c, validators);
    if (fetched.res.status === 304) {
      accepted = acceptsNotModified(validators, stored, fetched.res.headers);
      // §4.3.4: a 304 that selects no response we hold is no answer; ask for the whole one.
      if (!accepted) {
        await fetched.res.body?.cancel();
        fetched = await fetchForCache(c);
      }
    }
  } catch (err) {
    // Down: nothing was asked; any stale entry serves at once, unless it must never serve stale (§4.2.4).
    if (err instanceof OriginDownError) {
      if (!found.meta.lifetimes.mustRevalidate) return serveStale();
      await found.body?.cancel();
      return originDownResponse(err, { fwd: "stale" });
    }
    const failure = originFailure(err);
    tell({ stored: false, failed: failure.status });
    if (canServeStale()) return serveStale(failure.status);
    await found.body?.cancel();
    return errorResponse(failure.status, failure.message, { fwd: "stale", fwdStatus: failure.status });
  }
  const { res } = fetched;
  if (res.status >= 500) {
    tell({ stored: false, failed: res.status });
    if (canServeStale()) {
      await res.body?.cancel();
      return serveStale(res.status);
    }
    await found.body?.cancel();
    return deliverFromOrigin(res, { ...deliverOptions(c, { fwd: "stale", fwdStatus: res.status }), browserTtl: null, cacheable: false });
  }
  if (accepted) {
    await res.body?.cancel();
    const outcome = await refresh(c, found, fetched);
    tell({ stored: outcome.stored, refreshed: { validators: validatorsKey(found), meta: outcome.stored ? outcome.meta : null } });
    if (!outcome.stored) return deliverFromEntry(found.meta, found.body, 0, deliverOptions(c, { fwd: "stale", fwdStatus: 304, ttl: found.meta.lifetimes.lifetime, detail: found.tier }));
    return deliverFromEntry(outcome.meta, outcome.body, 0, deliverOptions(c, { fwd: "stale", fwdStatus: 304, stored: true, ttl: outcome.ttl, detail: found.tier }));
  }
  await found.body?.cancel();
  const outcome = await replace(c, fetched, index);
  if (!outcome.stored) {
    return deliverFromOrigin(res, { ...deliverOptions(c, { fwd: "stale", fwdStatus: res.status, detail: outcome.reason }), cacheable: false });
  }
  tell(outcome.readable.then((ok) => ({ stored: ok })));
  return deliverFromOrigin(new Response(outcome.body, res), {
    ...deliverOptions(c, { fwd: "stale", fwdStatus: res.status, stored: true, ttl: outcome.ttl }),
    cacheable: true,
  });
}

/**
 * The background half of stale-while-revalidate (RFC 5861 §3): one conditional fetch,
 * its result stored. `c` carries a recorder of its own: the request's line is written.
 */
export async function refreshInBackground(c: Ctx, found: Found, index: VaryMeta | null): Promise<void> {
  const stored = new Headers(found.meta.headers);
  const validators = validatorsOf(stored);
  let fetched: Fetched;
  try {
    fetched = await fetchForCache(c, validators);
  } catch {
    return;
  }
  const { res } = fetched;
  if (res.status >= 500) return void (await res.body?.cancel());
  if (res.status === 304) {
    await res.body?.cancel();
    if (!acceptsNotModified(validators, stored, res.headers)) return;
    // The client has the first copy of the body; take it from the tier again.
    const again = await lookup(c.deps.tiers, c.primary, c.variantHeaders, {
      edge: found.tier === "edge",
      kv: found.tier === "kv",
      now: c.deps.clock.now(),
      background: (p) => c.exec.waitUntil(p),
    });
    if (!again.found || again.found.at.key !== found.at.key) return void (await again.found?.body?.cancel());
    const outcome = await refresh(c, again.found, fetched);
    await (outcome.stored ? outcome.body : again.found.body)?.cancel();
    return;
  }
  const outcome = await replace(c, fetched, index);
  if (!outcome.stored) return void (await res.body?.cancel());
  await Promise.all([outcome.body?.pipeTo(new WritableStream()), outcome.done]);
}
