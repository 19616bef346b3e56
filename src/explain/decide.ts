/**
 * The whole decision for one request, as data: which route and why not the earlier
 * ones, the bypass verdict, the cache key and its parts, TTLs and tiers. Pure: it
 * calls the very functions the proxy calls, so `GET /.edge-cache/explain` and
 * `edge-cache rules explain` (offline) can never tell a different story.
 */
import { TOKEN } from "../http/fields";
import { originUrl } from "../http/origin";
import { bypassVerdict, type BypassReason } from "../policy/bypass";
import { buildCacheKey, normalizeUrl, type CacheKey } from "../policy/cache-key";
import { matchRoute } from "../rules/match";
import type { CompiledRoute, CompiledRules, MatchResult } from "../rules/types";

/** The compiled settings explain shows (patterns and matchers are shown by their parts elsewhere). */
type RouteSettingsView = Pick<
  CompiledRoute,
  | "ttl"
  | "origin"
  | "status"
  | "staleWhileRevalidate"
  | "staleIfError"
  | "heuristic"
  | "clientCacheControl"
  | "stripSetCookie"
  | "cacheAuthorized"
  | "originTimeoutMs"
  | "maxVariants"
  | "maxObjectSize"
  | "log"
  | "tags"
  | "shield"
  | "originHealth"
  | "fallbackOrigin"
  | "buildHeader"
  | "kv"
>;

export interface Decision {
  request: { url: string; method: string; headerNames: string[] };
  route: { name: string; index: number } | null;
  tried: MatchResult["tried"];
  /** no-rule: passes through; bypass: passes through, reason below; cache: looked up and stored as below. */
  outcome: "no-rule" | "bypass" | "cache";
  bypass: { reason: BypassReason; detail: string | null } | null;
  key: { key: string; url: string; parts: CacheKey["parts"] } | null;
  /** The URL the origin is asked for (the normalized one when cached). */
  originUrl: string;
  settings: RouteSettingsView | null;
  /** Which tiers store this route's answers; edge TTL null = the origin's headers decide. */
  tiers: { edge: boolean; kv: boolean } | null;
}

/** The proxy's decision for `method url` with `headers` (and `country`, as `request.cf.country`) under `rules`. */
export function decide(rules: CompiledRules, asked: URL, method: string, headers: Headers, country?: string): Decision {
  const upper = method.toUpperCase();
  // The proxy's one normalized URL (normalizeUrl), so explain matches what it does.
  const url = normalizeUrl(asked);
  const { route, tried } = matchRoute(rules, url, upper);
  const verdict = route ? bypassVerdict(route, upper, url, headers, asked.pathname) : null;
  const key = route && !verdict ? buildCacheKey(url, headers, route.key, country) : null;
  return {
    request: { url: asked.href, method: upper, headerNames: [...new Set(headers.keys())].sort() },
    route: route && { name: route.name, index: route.index },
    tried,
    outcome: !route ? "no-rule" : verdict ? "bypass" : "cache",
    bypass: verdict && { reason: verdict.reason, detail: verdict.detail ?? null },
    key: key && { key: key.key, url: key.url.href, parts: key.parts },
    originUrl: originUrl(rules.origin, key?.url ?? url).href,
    settings: route && settingsOf(route),
    tiers: route && key ? { ...route.tiers } : null,
  };
}

function settingsOf(r: CompiledRoute): RouteSettingsView {
  return {
    ttl: { ...r.ttl },
    origin: r.origin,
    status: r.status,
    staleWhileRevalidate: r.staleWhileRevalidate,
    staleIfError: r.staleIfError,
    heuristic: r.heuristic,
    clientCacheControl: r.clientCacheControl,
    stripSetCookie: r.stripSetCookie,
    cacheAuthorized: r.cacheAuthorized,
    originTimeoutMs: r.originTimeoutMs,
    maxVariants: r.maxVariants,
    maxObjectSize: { ...r.maxObjectSize },
    log: r.log,
    tags: r.tags,
    shield: r.shield,
    originHealth: r.originHealth && { ...r.originHealth },
    fallbackOrigin: r.fallbackOrigin,
    buildHeader: r.buildHeader,
    kv: { ...r.kv },
  };
}

/** Request headers from `Name: value` / `Name:value` strings (explain's `h=` and the CLI's `-H`); a bad one is named in the error. */
export function parseHeaderArgs(items: readonly string[]): { ok: true; headers: Headers } | { ok: false; message: string } {
  const headers = new Headers();
  for (const item of items) {
    const colon = item.indexOf(":");
    const name = colon < 0 ? "" : item.slice(0, colon).trim();
    if (colon < 0 || !TOKEN.test(name)) {
      return { ok: false, message: `not a header: ${JSON.stringify(item)}; write it as "Name: value", e.g. "Cookie: session=1"` };
    }
    try {
      headers.append(name, item.slice(colon + 1).trim());
    } catch {
      return { ok: false, message: `not a valid header value in ${JSON.stringify(item)}` };
    }
  }
  return { ok: true, headers };
}
