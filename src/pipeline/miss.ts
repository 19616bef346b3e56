/**
 * A miss: one request per key per isolate goes to the origin and stores what it may;
 * the others wait for its outcome and read what it stored (request collapsing).
 */
import { clientAcceptEncoding } from "../http/content-coding";
import { errorResponse, originFailure } from "../http/respond";
import { freshness } from "../policy/freshness";
import type { Ctx } from "./context";
import { deliverFromOrigin } from "./deliver";
import { deliverHit, lookupEntry, lookupTiers } from "./lookup";
import { OriginDownError, originDown, originDownResponse } from "./origin-gate";
import { keepPiece, partialStep, rangeAsked, type PartialStep } from "./partial";
import { answerOf, fetchForCache, store, verdictFor } from "./store";
import type { VaryMeta } from "../tiers/entry";
import type { Found } from "../tiers/two-tier";

/** How long an uncacheable answer is remembered so that requests stop queueing behind it. */
const HIT_FOR_PASS_MS = 10_000;

/** What another request's fetch just stored, delivered as collapsed onto it (RFC 9211 §2.6). */
function deliverCollapsed(c: Ctx, found: Found, f: { age: number; ttl: number }): Response {
  c.rec.tier = found.tier;
  return deliverHit(c, found, f.age, { fwd: "uri-miss", collapsed: true, ttl: f.ttl, detail: found.tier });
}

/** `index` is the Vary index the lookup found: a new variant joins its epoch. */
export async function miss(c: Ctx, index: VaryMeta | null): Promise<Response> {
  const { deps, route } = c;
  // A range: answered from the URL's pieces, or asked of the origin as a range (pipeline/partial.ts).
  // Not collapsed: requests for other ranges of the key must not wait for this one.
  const range = rangeAsked(c, index);
  const step = range === null ? null : await partialStep(c, range);
  if (step?.kind === "hit") return step.response;
  if (step?.kind === "forward") return forward(c, { index }, undefined, step);
  const flight = deps.collapser.join(c.primary.key, deps.clock.now());
  // Behind a probe of a down origin nobody waits: the down answer (or the fallback) comes at once.
  if (!flight.leader && originDown(c)) return forward(c, null);
  if (!flight.leader) {
    const outcome = await flight.wait(route.originTimeoutMs);
    if (outcome?.stored) {
      const { found } = await lookupTiers(c);
      if (found) return deliverCollapsed(c, found, freshness(found.meta.lifetimes, found.meta.storedAt, deps.clock.now()));
    }
    // The leader's answer was not stored, or took too long: fetch, but leave storing to leaders.
    return forward(c, null);
  }
  // Our lookup may have missed a store that finished while it read KV: read again rather than fetch.
  if (deps.collapser.justStored(c.primary.key, deps.clock.now())) {
    const again = await lookupEntry(c);
    const found = again.found;
    const f = found && freshness(found.meta.lifetimes, found.meta.storedAt, deps.clock.now());
    if (found && f?.state === "fresh") {
      flight.settle({ stored: true });
      return deliverCollapsed(c, found, f);
    }
    await found?.body?.cancel();
  }
  try {
    return await forward(c, { index }, (stored, uncacheable) => {
      if (uncacheable) deps.collapser.markUncacheable(c.primary.key, deps.clock.now() + HIT_FOR_PASS_MS);
      flight.settle({ stored });
    });
  } catch (err) {
    flight.settle({ stored: false });
    throw err;
  }
}

/**
 * Fetches for a cacheable request and, for a leader (`leader` not null), stores;
 * `settled` hears whether it was stored, and whether the answer was uncacheable
 * (not merely a failed write).
 */
async function forward(
  c: Ctx,
  leader: { index: VaryMeta | null } | null,
  settled?: (stored: boolean, uncacheable: boolean) => void,
  partial?: Extract<PartialStep, { kind: "forward" }>,
): Promise<Response> {
  const options = { method: c.request.method, requestHeaders: c.request.headers, acceptEncoding: clientAcceptEncoding(c.request), browserTtl: c.route.ttl.browser };
  let fetched;
  try {
    // The client's range goes to the origin itself (never through the shield, which shares no 206).
    fetched = await fetchForCache(c, partial ? [["range", partial.range]] : []);
  } catch (err) {
    settled?.(false, false);
    if (err instanceof OriginDownError) return originDownResponse(err, { fwd: "uri-miss" });
    const failure = originFailure(err);
    return errorResponse(failure.status, failure.message, { fwd: "uri-miss", fwdStatus: failure.status });
  }
  const { res } = fetched;
  if (partial && res.status === 206) return keepPiece(c, fetched, partial.set);
  // A 416 answers the range, not the URL: never kept for it. An origin that ignored the range goes on as any miss.
  if (partial && res.status === 416) return deliverFromOrigin(res, { ...options, cacheable: false, status: { fwd: "uri-miss", detail: "status" } });
  const verdict = verdictFor(c, fetched, res.status, res.headers);
  // Through the shield, one caller (the leader) stores the site's KV copy; the others their own edge.
  const shielded = fetched.shield === "leader" || fetched.shield === "follower";
  const tiers = fetched.shield === "follower" ? { ...c.route.tiers, kv: false } : c.route.tiers;
  const outcome = leader ? await store(c, verdict, tiers, answerOf(fetched), leader) : null;
  if (!outcome?.stored) {
    settled?.(false, !verdict.store);
    const reason = outcome ? outcome.reason : verdict.store ? "collapse-timeout" : verdict.reason;
    const detail = fetched.fallback ? "fallback-origin" : shielded && reason === "no-tier" ? "shield" : reason;
    return deliverFromOrigin(res, { ...options, cacheable: false, status: { fwd: "uri-miss", detail } });
  }
  // Waiters read the entry as soon as one tier holds it (pipeline/collapse.ts).
  void outcome.readable.then((ok) => settled?.(ok, false), () => settled?.(false, false));
  return deliverFromOrigin(new Response(outcome.body, res), {
    ...options,
    cacheable: true,
    status: { fwd: "uri-miss", stored: true, ttl: outcome.ttl, ...(fetched.fallback ? { detail: "fallback-origin" } : shielded ? { detail: "shield" } : {}) },
  });
}
