/**
 * The pipeline: the only module that knows the order of the steps (ARCHITECTURE.md,
 * "The request's way"). Each step is decided by pure code in rules/ and policy/; the
 * steps beside this file (lookup, miss, revalidate, store, deliver) do the I/O.
 */
import { clientAcceptEncoding } from "../http/content-coding";
import type { CacheStatus } from "../http/cache-status";
import { fetchOrigin, noteSent, originUrl } from "../http/origin";
import { errorResponse, originFailure } from "../http/respond";
import { bypassVerdict } from "../policy/bypass";
import { buildCacheKey, normalizeUrl } from "../policy/cache-key";
import { originRequestHeaders } from "../policy/forwarding";
import { storesPostAnswer } from "../policy/post-answer";
import { freshness } from "../policy/freshness";
import { requestWantsValidation } from "../policy/request-directives";
import { matchRoute } from "../rules/match";
import type { CompiledRules, LogSetting } from "../rules/types";
import { contentLength } from "../stats/recorder";
import { storageKey } from "../tiers/two-tier";
import type { Ctx, ProxyDeps } from "./context";
import { deliverFromOrigin } from "./deliver";
import { createInvalidator } from "./invalidate";
import { deliverHit, lookupEntry } from "./lookup";
import { miss } from "./miss";
import { postAndStore } from "./post-answer";
import { Recorder, type Timings } from "./recorder";
import { refreshInBackground, revalidate } from "./revalidate";

export type { ProxyDeps } from "./context";

/** RFC 9110 §9.2.1: methods that do not change the target; the others invalidate it (RFC 9111 §4.4). */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

export function createProxy(deps: ProxyDeps) {
  // Per isolate: at most one background refresh per key at a time (RFC 5861 §3).
  const refreshing = new Set<string>();
  // RFC 9111 §4.4: a successful unsafe request clears what its URL can have stored.
  const invalidate = createInvalidator(deps);

  /** `parsed` is `request.url` already parsed by the caller (never changed here): one parse per request. */
  return async function proxy(request: Request, exec: ExecutionContext, parsed?: URL): Promise<Response> {
    const started = deps.clock.now();
    const t0 = Date.now();
    // A refresh this request starts outlives it (waitUntil).
    const rules = await deps.rules((p) => exec.waitUntil(p));
    const raw = parsed ?? new URL(request.url);
    // One URL for every decision below: route, bypass, key, origin request, purges, log.
    const url = normalizeUrl(raw);
    const { route } = matchRoute(rules, url, request.method);
    const rec = new Recorder();
    let response: Response;
    let keepsPost = false;
    if (!route) {
      response = await pass(deps, request, rules, url, rec, { fwd: "bypass", detail: "no-rule" });
    } else {
      const bypass = bypassVerdict(route, request.method, url, request.headers, raw.pathname);
      // A POST whose answer may be kept for GETs of its URL (`storePostAnswers`) invalidates it itself, then stores.
      keepsPost = request.method === "POST" && storesPostAnswer(rules, route, url, request.headers, raw.pathname);
      if (bypass && !keepsPost) {
        const status: CacheStatus = { fwd: bypass.reason === "method" ? "method" : "bypass", detail: bypass.reason };
        response = await pass(deps, request, rules, url, rec, status);
      } else {
        // request.cf is built for each request that reads it: read only for a country key.
        const key = buildCacheKey(url, request.headers, route.key, route.key.country !== null ? request.cf?.country : undefined);
        const primary = await storageKey(key.key, key.parts.host);
        const dimensions = key.parts.dimensions ?? {};
        // Made on first use (a Vary index found, or the origin asked): a plain hit needs none.
        let sent: Headers | undefined;
        const c: Ctx = {
          deps,
          request,
          route,
          rules,
          exec,
          target: key.url,
          primary,
          dimensions,
          rec,
          get variantHeaders() {
            return (sent ??= originRequestHeaders(request.headers, route.key, dimensions));
          },
        };
        response = keepsPost ? await postAndStore(c, url, () => invalidate(rules, url, request)) : await cached(c, refreshing);
      }
      if (route.debug) response = withServerTiming(response, rec.timings, Date.now() - t0);
    }
    // Unsafe methods only ever pass; one that succeeded clears what its URL can have stored.
    if (!SAFE_METHODS.has(request.method) && response.status < 400 && !keepsPost) exec.waitUntil(invalidate(rules, url, request));
    const line = {
      msg: "request",
      method: request.method,
      url: url.pathname,
      route: route?.name ?? null,
      status: response.status,
      cacheStatus: response.headers.get("cache-status"),
      tier: rec.tier,
      originStatus: rec.originStatus,
      timings: rec.timings,
      bytes: contentLength(response.headers),
      ms: Math.max(deps.clock.now() - started, Date.now() - t0),
    };
    if (logged(route?.log ?? "all", response.status, rec.originStatus)) deps.log(line);
    // The statistics count from the very facts of the log line (src/stats).
    deps.stats?.observe(line, url, route, exec);
    return response;
  };
}

/**
 * The route's `log` setting: every line, failures only (a 5xx to the client, or from
 * the origin even when stale was served), or failures and a sampled share of the rest.
 * Writing the line is most of what it costs; the statistics still see every request.
 */
function logged(setting: LogSetting, status: number, originStatus: number | null): boolean {
  if (setting === "all") return true;
  if (status >= 500 || (originStatus ?? 0) >= 500) return true;
  return setting !== "errors" && Math.random() < setting;
}

/** Straight to the origin and back, nothing stored: no rule, a bypass, or an uncacheable method. */
export async function pass(deps: ProxyDeps, request: Request, rules: CompiledRules, url: URL, rec: Recorder, status: CacheStatus): Promise<Response> {
  const t0 = Date.now();
  noteSent(request);
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
    rec.time("origin", Date.now() - t0);
    if (res.status === 101) return res;
    return deliverFromOrigin(res, { method: request.method, requestHeaders: request.headers, acceptEncoding: clientAcceptEncoding(request), status, browserTtl: null, cacheable: false });
  } catch (err) {
    const failure = originFailure(err);
    return errorResponse(failure.status, failure.message, { ...status, fwdStatus: failure.status });
  }
}

async function cached(c: Ctx, refreshing: Set<string>): Promise<Response> {
  const { found, index } = await lookupEntry(c);
  if (!found) return miss(c, index);
  c.rec.tier = found.tier;
  const f = freshness(found.meta.lifetimes, found.meta.storedAt, c.deps.clock.now());
  const forced = c.route.clientCacheControl === "honor" && requestWantsValidation(c.request.headers);
  if (f.state === "fresh" && !forced) {
    return deliverHit(c, found, f.age, { hit: true, ttl: f.ttl, detail: found.tier });
  }
  if (f.state === "stale-while-revalidate" && !forced) {
    if (!refreshing.has(found.at.key)) {
      refreshing.add(found.at.key);
      // Its own recorder: the request's log line is written before the refresh ends.
      const background: Ctx = { ...c, rec: new Recorder() };
      c.exec.waitUntil(refreshInBackground(background, found, index).finally(() => refreshing.delete(found.at.key)));
    }
    return deliverHit(c, found, f.age, { hit: true, ttl: f.ttl, detail: `${found.tier}/stale-while-revalidate` });
  }
  return revalidate(c, found, index);
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
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers, encodeBody: "manual" });
}
