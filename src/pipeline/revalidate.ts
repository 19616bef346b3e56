/**
 * Using a stale entry (RFC 9111 §4.3, RFC 5861): ask the origin conditionally; a 304
 * refreshes the entry, a new answer replaces it, and when the origin fails the stale
 * entry is served if its stale-if-error window allows. A 5xx never replaces a good entry.
 */
import { deliverFromEntry, deliverFromOrigin } from "./deliver";
import { stripHopByHop } from "../http/headers";
import { freshness, type Lifetimes } from "../policy/freshness";
import type { Ctx } from "./context";
import { errorResponse, originFailure } from "../http/respond";
import { fetchForCache, storePlan, storeResponse, verdictFor, type Fetched } from "./store";
import type { ResponseMeta } from "../tiers/entry";
import { lookup, storeEntry, type Found } from "../tiers/two-tier";

/** The stored validators, as request conditionals (§4.3.1). */
export function validatorsOf(meta: ResponseMeta): [string, string][] {
  const h = new Headers(meta.headers);
  const out: [string, string][] = [];
  const etag = h.get("etag");
  const lm = h.get("last-modified");
  if (etag) out.push(["if-none-match", etag]);
  if (lm) out.push(["if-modified-since", lm]);
  return out;
}

function deliverOptions(c: Ctx) {
  return { method: c.request.method, requestHeaders: c.request.headers, browserTtl: c.route.ttl.browser };
}

/** §4.2.4 and RFC 5861 §4: may this stale entry answer when the origin fails? */
function staleOnErrorAllowed(l: Lifetimes, ttl: number): boolean {
  return !l.mustRevalidate && -ttl < l.staleIfError;
}

/** Stale (or must be validated): revalidate in the foreground. */
export async function revalidate(c: Ctx, found: Found): Promise<Response> {
  // Judged when the origin has failed, not when we asked: the wait counts against the window.
  const staleNow = () => freshness(found.meta.lifetimes, found.meta.storedAt, c.deps.clock.now());
  const canServeStale = () => staleOnErrorAllowed(found.meta.lifetimes, staleNow().ttl);
  const serveStale = (fwdStatus: number) => {
    const f = staleNow();
    return deliverFromEntry(found.meta, found.body, f.age, { ...deliverOptions(c), status: { fwd: "stale", fwdStatus, ttl: f.ttl, detail: found.tier } });
  };
  const validators = validatorsOf(found.meta);
  let fetched: Fetched;
  try {
    fetched = await fetchForCache(c, validators);
  } catch (err) {
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
    return deliverFromOrigin(res, { ...deliverOptions(c), browserTtl: null, cacheable: false, status: { fwd: "stale", fwdStatus: res.status } });
  }
  if (res.status === 304 && validators.length > 0) {
    await res.body?.cancel();
    const updated = refreshEntry(c, found, res.headers, fetched);
    return deliverFromEntry(updated.meta, updated.body, 0, {
      ...deliverOptions(c),
      status: { fwd: "stale", fwdStatus: 304, stored: updated.stored, ttl: updated.meta.lifetimes.lifetime, detail: found.tier },
    });
  }
  await found.body?.cancel();
  return replace(c, fetched);
}

/** A full new answer to a revalidation: store it if allowed, and deliver it. */
async function replace(c: Ctx, fetched: Fetched): Promise<Response> {
  const { res } = fetched;
  const verdict = verdictFor(c, fetched, res.status, res.headers);
  const stored = verdict.store ? await storeResponse(c, res, verdict, fetched.responseTime) : null;
  if (!verdict.store || !stored?.stored) {
    const detail = !verdict.store ? verdict.reason : stored && !stored.stored ? stored.reason : "no-tier";
    return deliverFromOrigin(res, { ...deliverOptions(c), cacheable: false, status: { fwd: "stale", fwdStatus: res.status, detail } });
  }
  return deliverFromOrigin(new Response(stored.body, res), {
    ...deliverOptions(c),
    cacheable: true,
    status: { fwd: "stale", fwdStatus: res.status, stored: true, ttl: verdict.lifetimes.lifetime },
  });
}

/**
 * §4.3.4: a 304 updates the stored headers (all but the framing fields) and the
 * entry is stored again with its new lifetime, the body copied from the old one.
 */
function refreshEntry(c: Ctx, found: Found, notModified: Headers, fetched: Fetched) {
  const headers = new Headers(found.meta.headers);
  for (const [k, v] of stripHopByHop(notModified)) {
    if (k !== "content-length" && k !== "content-encoding" && k !== "transfer-encoding") headers.set(k, v);
  }
  const verdict = verdictFor(c, fetched, found.meta.status, headers);
  if (!verdict.store) return { meta: found.meta, body: found.body, stored: false };
  const meta: ResponseMeta = { ...found.meta, headers: [...headers], storedAt: fetched.responseTime, lifetimes: verdict.lifetimes };
  let client = found.body;
  let toStore: ReadableStream<Uint8Array> | null = null;
  if (found.body) [client, toStore] = found.body.tee();
  c.exec.waitUntil(storeEntry(c.deps.tiers, storePlan(c, verdict), c.primary, found.vary, found.at, meta, toStore));
  return { meta, body: client, stored: true };
}

/** The background half of stale-while-revalidate (RFC 5861 §3): one conditional fetch, its result stored. */
export async function refreshInBackground(c: Ctx, found: Found): Promise<void> {
  let fetched: Fetched;
  try {
    fetched = await fetchForCache(c, validatorsOf(found.meta));
  } catch {
    return;
  }
  const { res } = fetched;
  if (res.status >= 500) return void (await res.body?.cancel());
  if (res.status === 304) {
    await res.body?.cancel();
    // The client has the first copy of the body; take it from the tier again.
    const again = await lookup(c.deps.tiers, c.primary, c.variantHeaders, {
      edge: found.tier === "edge",
      kv: found.tier === "kv",
      now: c.deps.clock.now(),
      background: (p) => c.exec.waitUntil(p),
    });
    if (!again.found || again.found.at.key !== found.at.key) return void (await again.found?.body?.cancel());
    await refreshEntry(c, again.found, res.headers, fetched).body?.cancel();
    return;
  }
  const verdict = verdictFor(c, fetched, res.status, res.headers);
  const stored = verdict.store ? await storeResponse(c, res, verdict, fetched.responseTime) : null;
  if (!stored?.stored) return void (await res.body?.cancel());
  await Promise.all([stored.body?.pipeTo(new WritableStream()), stored.done]);
}

