/**
 * Using a stale entry (RFC 9111 §4.3, RFC 5861): ask the origin conditionally; an
 * accepted 304 refreshes the entry, a new answer replaces it, and when the origin
 * fails the stale entry is served if its stale-if-error window allows. A 5xx never
 * replaces a good entry. The foreground and background paths share the 304 rule
 * (policy/not-modified) and the store step; they differ only in what they report.
 */
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
import type { VaryMeta } from "../tiers/entry";
import { lookup, type Found } from "../tiers/two-tier";

function deliverOptions(c: Ctx, status: CacheStatus) {
  return { method: c.request.method, requestHeaders: c.request.headers, browserTtl: c.route.ttl.browser, status };
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

/** Stale (or must be validated): revalidate in the foreground. `index` is the Vary index the lookup found. */
export async function revalidate(c: Ctx, found: Found, index: VaryMeta | null): Promise<Response> {
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
    if (canServeStale()) return serveStale(failure.status);
    await found.body?.cancel();
    return errorResponse(failure.status, failure.message, { fwd: "stale", fwdStatus: failure.status });
  }
  const { res } = fetched;
  if (res.status >= 500) {
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
    if (!outcome.stored) return deliverFromEntry(found.meta, found.body, 0, deliverOptions(c, { fwd: "stale", fwdStatus: 304, ttl: found.meta.lifetimes.lifetime, detail: found.tier }));
    return deliverFromEntry(outcome.meta, outcome.body, 0, deliverOptions(c, { fwd: "stale", fwdStatus: 304, stored: true, ttl: outcome.ttl, detail: found.tier }));
  }
  await found.body?.cancel();
  const outcome = await replace(c, fetched, index);
  if (!outcome.stored) {
    return deliverFromOrigin(res, { ...deliverOptions(c, { fwd: "stale", fwdStatus: res.status, detail: outcome.reason }), cacheable: false });
  }
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
