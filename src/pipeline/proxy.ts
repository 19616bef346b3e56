/**
 * The pipeline: the only module that knows the order of the steps (design: "The
 * request's way"). Each step is decided by pure code in rules/ and policy/; this
 * file and the two it delegates to (store-response, revalidate) do the I/O.
 */
import type { CacheStatus } from "../http/cache-status";
import { deliverFromEntry, deliverFromOrigin } from "./deliver";
import { fetchOrigin, originUrl } from "../http/origin";
import { bypassVerdict } from "../policy/bypass";
import { buildCacheKey } from "../policy/cache-key";
import { withDimensionHeaders } from "../policy/dimensions";
import { freshness, type Lifetimes } from "../policy/freshness";
import { requestWantsValidation } from "../policy/request-directives";
import type { Ctx, ProxyDeps, Timings } from "./context";
import { errorResponse, originFailure } from "../http/respond";
import { refreshInBackground, revalidate } from "./revalidate";
import { matchRoute } from "../rules/match";
import type { CompiledRules } from "../rules/types";
import { fetchForCache, storeResponse, verdictFor } from "./store";
import { contentLength } from "../stats/recorder";
import { lookup, storageKey, type Found } from "../tiers/two-tier";

export type { ProxyDeps } from "./context";

/** How long an uncacheable answer is remembered so that requests stop queueing behind it. */
const HIT_FOR_PASS_MS = 10_000;

/** RFC 9110 §9.2.1: methods that do not change the target; the others invalidate it (RFC 9111 §4.4). */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

export function createProxy(deps: ProxyDeps) {
  // Per isolate: at most one background refresh per key at a time (RFC 5861 §3).
  const refreshing = new Set<string>();

  return async function proxy(request: Request, exec: ExecutionContext): Promise<Response> {
    const started = deps.clock.now();
    const t0 = Date.now();
    const rules = await deps.rules();
    const url = new URL(request.url);
    const { route } = matchRoute(rules, url, request.method);
    const timings: Timings = {};
    let c: Ctx | null = null;
    let response: Response;
    if (!route) {
      response = await pass(deps, request, rules, url, timings, { fwd: "bypass", detail: "no-rule" });
    } else {
      // The key is built only when it is used: a lookup, or an invalidation.
      const context = async (): Promise<Ctx> => {
        const key = buildCacheKey(url, request.headers, route.key, request.cf?.country);
        const primary = await storageKey(key.key, key.parts.host);
        const dimensions = key.parts.dimensions ?? {};
        const variantHeaders = key.parts.dimensions ? withDimensionHeaders(new Headers(request.headers), dimensions) : request.headers;
        return { deps, request, route, rules, exec, target: key.url, primary, dimensions, variantHeaders, index: null, timings };
      };
      const bypass = bypassVerdict(route, request.method, url, request.headers);
      if (bypass) {
        const status: CacheStatus = { fwd: bypass.reason === "method" ? "method" : "bypass", detail: bypass.reason };
        response = await pass(deps, request, rules, url, timings, status);
        if (!SAFE_METHODS.has(request.method) && response.status < 400) exec.waitUntil(context().then(invalidate));
      } else {
        c = await context();
        response = await cached(c, refreshing);
      }
      if (route.debug) response = withServerTiming(response, timings, Date.now() - t0);
    }
    const line = {
      msg: "request",
      method: request.method,
      url: url.pathname,
      route: route?.name ?? null,
      status: response.status,
      cacheStatus: response.headers.get("cache-status"),
      tier: c?.tier ?? null,
      originStatus: c?.originStatus ?? null,
      timings,
      bytes: contentLength(response.headers),
      ms: Math.max(deps.clock.now() - started, Date.now() - t0),
    };
    deps.log(line);
    // The statistics count from the very facts of the log line (src/stats).
    deps.stats?.observe(line, url, route);
    return response;
  };
}

/** Straight to the origin and back, nothing stored: no rule, a bypass, or an uncacheable method. */
async function pass(deps: ProxyDeps, request: Request, rules: CompiledRules, url: URL, timings: Timings, status: CacheStatus): Promise<Response> {
  const t0 = Date.now();
  try {
    const res = await fetchOrigin(
      {
        url: originUrl(rules.origin, url),
        method: request.method,
        headers: request.headers,
        body: request.body,
        timeoutMs: 100_000,
        upgrade: request.headers.has("upgrade"),
      },
      deps.clock,
    );
    timings.origin = Date.now() - t0;
    if (res.status === 101) return res;
    return deliverFromOrigin(res, { method: request.method, requestHeaders: request.headers, status, browserTtl: null, cacheable: false });
  } catch (err) {
    const failure = originFailure(err);
    return errorResponse(failure.status, failure.message, { ...status, fwdStatus: failure.status });
  }
}

/** RFC 9111 §4.4: a successful unsafe request makes the stored answer for its URL unreachable, here and in KV. */
async function invalidate(c: Ctx): Promise<void> {
  await Promise.all([c.deps.tiers.edge.delete(c.primary), c.deps.tiers.kv.delete(c.primary)]);
}

async function lookupAll(c: Ctx) {
  return lookup(c.deps.tiers, c.primary, c.variantHeaders, {
    edge: c.route.ttl.edge !== 0,
    kv: c.route.ttl.kv > 0,
    now: c.deps.clock.now(),
    background: (p) => c.exec.waitUntil(p),
    timed: (tier, ms) => (c.timings[tier] = (c.timings[tier] ?? 0) + ms),
  });
}

/** A purged entry is gone (hard) or expired (soft); the purge check lives in src/purge. */
async function afterPurge(c: Ctx, found: Found): Promise<{ found: Found | null; lifetimes: Lifetimes }> {
  const verdict = c.deps.purges ? await c.deps.purges.verdict(found.meta, c.target, (p) => c.exec.waitUntil(p)) : null;
  if (verdict === "hard") {
    await found.body?.cancel();
    c.exec.waitUntil(c.deps.tiers[found.tier].delete(found.at));
    return { found: null, lifetimes: found.meta.lifetimes };
  }
  return { found, lifetimes: verdict === "soft" ? { ...found.meta.lifetimes, lifetime: 0 } : found.meta.lifetimes };
}

async function cached(c: Ctx, refreshing: Set<string>): Promise<Response> {
  const result = await lookupAll(c);
  c.index = result.index;
  const { found, lifetimes } = result.found ? await afterPurge(c, result.found) : { found: null, lifetimes: null };
  if (!found || !lifetimes) return miss(c);
  c.tier = found.tier;
  const f = freshness(lifetimes, found.meta.storedAt, c.deps.clock.now());
  const forced = c.route.clientCacheControl === "honor" && requestWantsValidation(c.request.headers);
  if (f.state === "fresh" && !forced) {
    return deliverHit(c, found, f.age, { hit: true, ttl: f.ttl, detail: found.tier });
  }
  if (f.state === "stale-while-revalidate" && !forced) {
    if (!refreshing.has(found.at.key)) {
      refreshing.add(found.at.key);
      c.exec.waitUntil(refreshInBackground(c, found).finally(() => refreshing.delete(found.at.key)));
    }
    return deliverHit(c, found, f.age, { hit: true, ttl: f.ttl, detail: `${found.tier}/stale-while-revalidate` });
  }
  return revalidate(c, { ...found, meta: { ...found.meta, lifetimes } });
}

function deliverHit(c: Ctx, found: Found, age: number, status: CacheStatus): Response {
  return deliverFromEntry(found.meta, found.body, age, {
    method: c.request.method,
    requestHeaders: c.request.headers,
    status,
    browserTtl: c.route.ttl.browser,
  });
}

/** A miss: one request per key per isolate goes to the origin; the others wait for what it stores. */
async function miss(c: Ctx): Promise<Response> {
  const { deps, route } = c;
  const flight = deps.collapser.join(c.primary.key, deps.clock.now());
  if (!flight.leader) {
    const outcome = await flight.wait(route.originTimeoutMs);
    if (outcome?.stored) {
      const { found } = await lookupAll(c);
      if (found) {
        c.tier = found.tier;
        const f = freshness(found.meta.lifetimes, found.meta.storedAt, deps.clock.now());
        return deliverHit(c, found, f.age, { fwd: "uri-miss", collapsed: true, ttl: f.ttl, detail: found.tier });
      }
    }
    // The leader's answer was not stored, or took too long: fetch, but leave storing to leaders.
    return forward(c, false);
  }
  try {
    return await forward(c, true, (stored, uncacheable) => {
      if (uncacheable) deps.collapser.markUncacheable(c.primary.key, deps.clock.now() + HIT_FOR_PASS_MS);
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
  const options = { method: c.request.method, requestHeaders: c.request.headers, browserTtl: c.route.ttl.browser };
  let fetched;
  try {
    fetched = await fetchForCache(c);
  } catch (err) {
    settled?.(false, false);
    const failure = originFailure(err);
    return errorResponse(failure.status, failure.message, { fwd: "uri-miss", fwdStatus: failure.status });
  }
  const { res } = fetched;
  const verdict = verdictFor(c, fetched, res.status, res.headers);
  const stored = verdict.store && mayStore ? await storeResponse(c, res, verdict, fetched.responseTime) : null;
  if (!stored?.stored) {
    settled?.(false, !verdict.store);
    const detail = !verdict.store ? verdict.reason : stored ? stored.reason : "collapse-timeout";
    return deliverFromOrigin(res, { ...options, cacheable: false, status: { fwd: "uri-miss", detail } });
  }
  void stored.done.then((ok) => settled?.(ok, false), () => settled?.(false, false));
  return deliverFromOrigin(new Response(stored.body, res), {
    ...options,
    cacheable: true,
    status: { fwd: "uri-miss", stored: true, ttl: verdict.store ? verdict.lifetimes.lifetime : 0 },
  });
}

/** Server-Timing (W3C) with the time spent per stage, for routes with `debug`. */
function withServerTiming(res: Response, t: Timings, total: number): Response {
  const parts = (["edge", "kv", "origin"] as const)
    .filter((k) => t[k] !== undefined)
    .map((k) => `${k};dur=${t[k]}`);
  parts.push(`total;dur=${total}`);
  // A 101 carries a WebSocket and cannot be rebuilt; its headers stay as they are.
  if (res.status === 101) return res;
  const headers = new Headers(res.headers);
  headers.append("server-timing", parts.join(", "));
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

