/**
 * The pipeline: the only module that knows the order of the steps (design: "The
 * request's way"). Each step is decided by pure code in rules/ and policy/; this
 * file does the I/O those decisions call for.
 */
import { type CacheStatus } from "./cache-status";
import { type Collapser } from "./collapse";
import { deliverFromEntry, deliverFromOrigin } from "./deliver";
import { completeBody, declaredLength, fetchOrigin, originUrl, stripHopByHop } from "./origin";
import { bypassVerdict } from "./policy/bypass";
import { buildCacheKey } from "./policy/cache-key";
import { freshness, retentionSeconds, storeVerdict, type StoreVerdict } from "./policy/freshness";
import { requestWantsValidation } from "./policy/request-directives";
import { responseTags } from "./policy/tags";
import { variantKey, varyNames } from "./policy/vary";
import { errorResponse, originFailure } from "./respond";
import { matchRoute } from "./rules/match";
import type { CompiledRoute, CompiledRules } from "./rules/types";
import { ENTRY_VERSION, type ResponseMeta, type VaryMeta } from "./tiers/entry";
import { lookup, storageKey, storeEntry, type Found, type Tiers } from "./tiers/two-tier";
import type { StorageKey } from "./tiers/tier";

export interface ProxyDeps {
  rules(): CompiledRules;
  tiers: Tiers;
  collapser: Collapser;
  /** The clock, ms since epoch: a seam so tests move time instead of waiting. */
  now(): number;
  log(line: Record<string, unknown>): void;
}

/** How long an uncacheable answer is remembered so that requests stop queueing behind it. */
const HIT_FOR_PASS_MS = 10_000;

interface Ctx {
  deps: ProxyDeps;
  request: Request;
  url: URL;
  route: CompiledRoute;
  rules: CompiledRules;
  exec: ExecutionContext;
  /** The request's key, normalized URL and storage address. */
  target: URL;
  primary: StorageKey;
}

export function createProxy(deps: ProxyDeps) {
  const refreshing = new Set<string>();

  return async function proxy(request: Request, exec: ExecutionContext): Promise<Response> {
    const started = deps.now();
    const rules = deps.rules();
    const url = new URL(request.url);
    const { route } = matchRoute(rules, url, request.method);
    let response: Response;
    if (!route) {
      response = await pass(request, rules.origin, url, { fwd: "bypass", detail: "no-rule" });
    } else {
      const bypass = bypassVerdict(route, request.method, url, request.headers);
      if (bypass) {
        response = await pass(request, rules.origin, url, {
          fwd: bypass.reason === "method" ? "method" : "bypass",
          detail: bypass.reason,
        });
      } else {
        const key = buildCacheKey(url, request.headers, route.key);
        const primary = await storageKey(key.key, key.parts.host);
        response = await cached({ deps, request, url, route, rules, exec, target: key.url, primary }, refreshing);
      }
    }
    deps.log({
      msg: "request",
      method: request.method,
      url: url.pathname,
      route: route?.name ?? null,
      status: response.status,
      cacheStatus: response.headers.get("cache-status"),
      ms: deps.now() - started,
    });
    return response;
  };
}

/** Straight to the origin and back, nothing stored: no rule, a bypass, or an uncacheable method. */
async function pass(request: Request, origin: string | null, url: URL, status: CacheStatus): Promise<Response> {
  try {
    const res = await fetchOrigin({
      url: originUrl(origin, url),
      method: request.method,
      headers: request.headers,
      body: request.body,
      timeoutMs: 30_000,
      upgrade: request.headers.has("upgrade"),
    });
    if (res.status === 101) return res;
    return deliverFromOrigin(res, { method: request.method, requestHeaders: request.headers, status, browserTtl: null, cacheable: false });
  } catch (err) {
    const failure = originFailure(err);
    return errorResponse(failure.status, failure.message, { ...status, fwdStatus: failure.status });
  }
}

async function cached(c: Ctx, refreshing: Set<string>): Promise<Response> {
  const { deps, route, request } = c;
  const now = deps.now();
  const found = await lookupAll(c, now);
  if (found) {
    const f = freshness(found.meta.lifetimes, found.meta.storedAt, now);
    const forced = route.clientCacheControl === "honor" && requestWantsValidation(request.headers);
    if (f.state === "fresh" && !forced) {
      return deliverHit(c, found, f.age, { hit: true, ttl: f.ttl, detail: found.tier });
    }
    if (f.state === "stale-while-revalidate" && !forced) {
      // RFC 5861 §3: serve the stale entry now, refresh once in the background.
      if (!refreshing.has(found.at.key)) {
        refreshing.add(found.at.key);
        c.exec.waitUntil(refresh(c, found).finally(() => refreshing.delete(found.at.key)));
      }
      return deliverHit(c, found, f.age, { hit: true, ttl: f.ttl, detail: `${found.tier}/stale-while-revalidate` });
    }
    return revalidate(c, found, f.age, f.ttl);
  }
  return miss(c);
}

function lookupAll(c: Ctx, now: number): Promise<Found | null> {
  return lookup(c.deps.tiers, c.primary, c.request.headers, {
    edge: c.route.ttl.edge !== 0,
    kv: c.route.ttl.kv > 0,
    now,
    background: (p) => c.exec.waitUntil(p),
  });
}

function deliverHit(c: Ctx, found: Found, age: number, status: CacheStatus): Response {
  return deliverFromEntry(found.meta, found.body, age, {
    method: c.request.method,
    requestHeaders: c.request.headers,
    status,
    browserTtl: c.route.ttl.browser,
  });
}

/** The headers we send the origin for a cacheable request: no client conditionals or ranges, ours decide. */
function originHeaders(request: Request): Headers {
  const h = new Headers(request.headers);
  for (const name of ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"]) h.delete(name);
  return h;
}

async function fetchForCache(c: Ctx, extra?: [string, string][]) {
  const headers = originHeaders(c.request);
  for (const [k, v] of extra ?? []) headers.set(k, v);
  const requestTime = c.deps.now();
  // HEAD is answered from the GET entry, so a HEAD miss fetches the GET (as Varnish does).
  const res = await fetchOrigin({
    url: originUrl(c.rules.origin, c.target),
    method: "GET",
    headers,
    body: null,
    timeoutMs: c.route.originTimeoutMs,
  });
  return { res, requestTime, responseTime: c.deps.now() };
}

function verdictFor(c: Ctx, res: Response, requestTime: number, responseTime: number): StoreVerdict {
  return storeVerdict(c.route, {
    status: res.status,
    headers: res.headers,
    requestTime,
    responseTime,
    authorized: c.request.headers.has("authorization"),
  });
}

/**
 * Stores an origin answer in the tiers the route allows, in the background, and
 * returns the body stream the client should read.
 */
async function store(
  c: Ctx,
  res: Response,
  verdict: Extract<StoreVerdict, { store: true }>,
  responseTime: number,
): Promise<{ body: ReadableStream<Uint8Array> | null; done: Promise<boolean> }> {
  const headers = stripHopByHop(res.headers);
  if (verdict.stripSetCookie) headers.delete("set-cookie");
  const names = varyNames(res.headers);
  const at = names ? await storageKey(variantKey(c.primary.key, names, c.request.headers), c.primary.host) : c.primary;
  const tags = [...new Set([...c.route.tags, ...responseTags(res.headers)])];
  const base = { v: ENTRY_VERSION, storedAt: responseTime, route: c.route.name, tags, gen: 0 } as const;
  const meta: ResponseMeta = {
    ...base,
    kind: "response",
    key: at.key,
    status: res.status,
    headers: [...headers],
    lifetimes: verdict.lifetimes,
    size: declaredLength(res.headers),
  };
  const vary: VaryMeta | null = names ? { ...base, kind: "vary", key: c.primary.key, vary: names } : null;
  const plan = {
    edge: c.route.ttl.edge === 0 ? 0 : retentionSeconds(verdict.lifetimes),
    kv: c.route.ttl.kv,
  };
  let client: ReadableStream<Uint8Array> | null = null;
  let toStore: ReadableStream<Uint8Array> | null = null;
  if (res.body) [client, toStore] = res.body.tee();
  const done = storeEntry(c.deps.tiers, plan, c.primary, vary, at, meta, toStore && completeBody(toStore, meta.size))
    .then((tiers) => tiers.length > 0);
  c.exec.waitUntil(done);
  return { body: client, done };
}

async function miss(c: Ctx): Promise<Response> {
  const { deps, request, route } = c;
  const flight = deps.collapser.join(c.primary.key, deps.now());
  if (!flight.leader) {
    const outcome = await flight.wait(route.originTimeoutMs);
    if (outcome?.stored) {
      const found = await lookupAll(c, deps.now());
      if (found) {
        const f = freshness(found.meta.lifetimes, found.meta.storedAt, deps.now());
        return deliverHit(c, found, f.age, { fwd: "uri-miss", collapsed: true, ttl: f.ttl, detail: found.tier });
      }
    }
    // The leader's answer was not stored (or took too long): fetch, but leave storing to leaders.
    return forward(c, false);
  }
  try {
    return await forward(c, true, (stored, uncacheable) => {
      if (uncacheable) deps.collapser.markUncacheable(c.primary.key, deps.now() + HIT_FOR_PASS_MS);
      flight.settle({ stored });
    });
  } catch (err) {
    flight.settle({ stored: false });
    throw err;
  }
}

/**
 * Fetches for a cacheable request and, when allowed, stores; `settled` hears whether
 * it was stored, and whether the answer was uncacheable (not merely a failed write).
 */
async function forward(c: Ctx, mayStore: boolean, settled?: (stored: boolean, uncacheable: boolean) => void): Promise<Response> {
  let fetched;
  try {
    fetched = await fetchForCache(c);
  } catch (err) {
    settled?.(false, false);
    const failure = originFailure(err);
    return errorResponse(failure.status, failure.message, { fwd: "uri-miss", fwdStatus: failure.status });
  }
  const { res, requestTime, responseTime } = fetched;
  const verdict = verdictFor(c, res, requestTime, responseTime);
  const options = { method: c.request.method, requestHeaders: c.request.headers, browserTtl: c.route.ttl.browser };
  if (!verdict.store || !mayStore) {
    settled?.(false, !verdict.store);
    return deliverFromOrigin(res, {
      ...options,
      cacheable: false,
      status: { fwd: "uri-miss", detail: verdict.store ? "collapse-timeout" : verdict.reason },
    });
  }
  const { body, done } = await store(c, res, verdict, responseTime);
  void done.then((ok) => settled?.(ok, false), () => settled?.(false, false));
  return deliverFromOrigin(new Response(body, res), {
    ...options,
    cacheable: true,
    status: { fwd: "uri-miss", stored: true, ttl: verdict.lifetimes.lifetime },
  });
}

/** Stale or must-revalidate: ask the origin conditionally (RFC 9111 §4.3.1), fall back to stale on error (RFC 5861 §4). */
async function revalidate(c: Ctx, found: Found, age: number, ttl: number): Promise<Response> {
  const l = found.meta.lifetimes;
  const canServeStale = !l.mustRevalidate && -ttl < l.staleIfError;
  const serveStale = (fwdStatus: number) =>
    deliverHit(c, found, age, { fwd: "stale", fwdStatus, ttl, detail: found.tier });
  const validators = conditionalHeaders(found.meta);
  let fetched;
  try {
    fetched = await fetchForCache(c, validators);
  } catch (err) {
    const failure = originFailure(err);
    if (canServeStale) return serveStale(failure.status);
    await found.body?.cancel();
    return errorResponse(failure.status, failure.message, { fwd: "stale", fwdStatus: failure.status });
  }
  const { res, requestTime, responseTime } = fetched;
  // RFC 5861 §4 and a rule of ours: a 5xx never replaces a good entry.
  if (res.status >= 500) {
    if (canServeStale) {
      await res.body?.cancel();
      return serveStale(res.status);
    }
    await found.body?.cancel();
    return deliverFromOrigin(res, { method: c.request.method, requestHeaders: c.request.headers, browserTtl: null, cacheable: false, status: { fwd: "stale", fwdStatus: res.status } });
  }
  if (res.status === 304 && validators.length > 0) {
    await res.body?.cancel();
    const updated = await refreshed(c, found, res, requestTime, responseTime);
    return deliverFromEntry(updated.meta, updated.body, 0, {
      method: c.request.method,
      requestHeaders: c.request.headers,
      status: { fwd: "stale", fwdStatus: 304, stored: updated.stored, detail: found.tier },
      browserTtl: c.route.ttl.browser,
    });
  }
  await found.body?.cancel();
  const verdict = verdictFor(c, res, requestTime, responseTime);
  const options = { method: c.request.method, requestHeaders: c.request.headers, browserTtl: c.route.ttl.browser };
  if (!verdict.store) {
    return deliverFromOrigin(res, { ...options, cacheable: false, status: { fwd: "stale", fwdStatus: res.status, detail: verdict.reason } });
  }
  const { body } = await store(c, res, verdict, responseTime);
  return deliverFromOrigin(new Response(body, res), {
    ...options,
    cacheable: true,
    status: { fwd: "stale", fwdStatus: res.status, stored: true, ttl: verdict.lifetimes.lifetime },
  });
}

function conditionalHeaders(meta: ResponseMeta): [string, string][] {
  const h = new Headers(meta.headers);
  const out: [string, string][] = [];
  const etag = h.get("etag");
  const lm = h.get("last-modified");
  if (etag) out.push(["if-none-match", etag]);
  if (lm) out.push(["if-modified-since", lm]);
  return out;
}

/** RFC 9111 §4.3.4: a 304 updates the stored headers; the entry is stored again with its new lifetime. */
async function refreshed(c: Ctx, found: Found, res: Response, requestTime: number, responseTime: number) {
  const headers = new Headers(found.meta.headers);
  // §3.2: every field of the 304 replaces the stored one, except the framing fields.
  for (const [k, v] of stripHopByHop(res.headers)) {
    if (k !== "content-length" && k !== "content-encoding") headers.set(k, v);
  }
  const as = new Response(null, { status: found.meta.status, headers });
  const verdict = verdictFor(c, as, requestTime, responseTime);
  if (!verdict.store) {
    return { meta: found.meta, body: found.body, stored: false };
  }
  const meta: ResponseMeta = { ...found.meta, headers: [...headers], storedAt: responseTime, lifetimes: verdict.lifetimes };
  let client = found.body;
  let toStore: ReadableStream<Uint8Array> | null = null;
  if (found.body) [client, toStore] = found.body.tee();
  const plan = { edge: c.route.ttl.edge === 0 ? 0 : retentionSeconds(verdict.lifetimes), kv: c.route.ttl.kv };
  c.exec.waitUntil(storeEntry(c.deps.tiers, plan, c.primary, found.vary, found.at, meta, toStore));
  return { meta, body: client, stored: true };
}

/** The background half of stale-while-revalidate: one conditional fetch, whose result is stored. */
async function refresh(c: Ctx, found: Found): Promise<void> {
  let fetched;
  try {
    fetched = await fetchForCache(c, conditionalHeaders(found.meta));
  } catch {
    return;
  }
  const { res, requestTime, responseTime } = fetched;
  if (res.status >= 500) {
    await res.body?.cancel();
    return;
  }
  if (res.status === 304) {
    await res.body?.cancel();
    // The body comes from the tier again: the client already has the first copy.
    const again = await lookupAll(c, c.deps.now());
    if (!again || again.at.key !== found.at.key) return void (await again?.body?.cancel());
    const updated = await refreshed(c, again, res, requestTime, responseTime);
    await updated.body?.cancel();
    return;
  }
  const verdict = verdictFor(c, res, requestTime, responseTime);
  if (!verdict.store) {
    await res.body?.cancel();
    return;
  }
  const { body, done } = await store(c, res, verdict, responseTime);
  await Promise.all([body?.pipeTo(new WritableStream()), done]);
}
