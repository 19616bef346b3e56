/**
 * Storability and freshness for a shared cache (RFC 9111 §3, §4.2, RFC 5861),
 * combined with the route's TTLs as its `origin` mode says. Pure: every input is a
 * parameter, times included, so the rules can be tested as tables without waiting.
 *
 * Why not http-cache-semantics: it models one private-or-shared cache with one TTL,
 * reads only Cache-Control, and folds stale-while-revalidate into its own policy
 * object. We need targeted fields (RFC 9213), rule TTLs in three modes, per-status
 * TTLs, two tiers with their own retention and a serializable entry; wrapping it
 * would mean overriding most of its answers. The clauses below cite their sections.
 */
import type { CompiledRoute } from "../rules/types";
import { deltaSeconds, governingDirectives } from "./cache-control";

/** §4.2.2: status codes that are "heuristically cacheable" (RFC 9110 §15.1), less 206 (we never store parts). */
export const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/** Statuses we understand well enough to store when freshness is explicit (§3: "understood"). */
const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
  ...HEURISTIC_STATUSES, 302, 303, 307, 400, 403, 500, 502, 503, 504,
]);

/** The lifetimes stored with an entry; all in seconds. */
export interface Lifetimes {
  /** Freshness lifetime (§4.2.1); 0 = revalidate before every use. */
  lifetime: number;
  /** Corrected initial age (§4.2.3) at the time of storing. */
  initialAge: number;
  staleWhileRevalidate: number;
  staleIfError: number;
  /** must-revalidate / proxy-revalidate / s-maxage (§4.2.4, §5.2.2.2, §5.2.2.8): never serve stale. */
  mustRevalidate: boolean;
}

export type StoreVerdict =
  | { store: true; lifetimes: Lifetimes; stripSetCookie: boolean; source: LifetimeSource }
  | { store: false; reason: NoStoreReason };

export type LifetimeSource = "s-maxage" | "max-age" | "expires" | "heuristic" | "rule" | "status-rule" | "validators";

export type NoStoreReason =
  | "no-store"
  | "private"
  | "set-cookie"
  | "vary-star"
  | "status"
  | "no-freshness"
  | "ttl-zero"
  | "authorization"
  | "request-no-store"
  | "deception";

export interface ResponseFacts {
  status: number;
  headers: Headers;
  /** When the request was sent and the response headers arrived, ms since epoch. */
  requestTime: number;
  responseTime: number;
  /** The request carried Authorization (§3.5). */
  authorized: boolean;
}

/** Lifetime the origin states explicitly (§4.2.1), or null. An invalid Expires means already expired. */
function explicitLifetime(
  facts: ResponseFacts,
): { seconds: number; source: LifetimeSource } | null {
  const { field, directives } = governingDirectives(facts.headers);
  const sMaxage = deltaSeconds(directives, "s-maxage");
  if (sMaxage !== null) return { seconds: sMaxage, source: "s-maxage" };
  const maxAge = deltaSeconds(directives, "max-age");
  if (maxAge !== null) return { seconds: maxAge, source: "max-age" };
  // RFC 9213 §2.1: a cache obeying a targeted field ignores Expires as well.
  const expires = field === "cache-control" ? facts.headers.get("expires") : null;
  if (expires !== null) {
    const exp = Date.parse(expires);
    if (Number.isNaN(exp)) return { seconds: 0, source: "expires" };
    const date = Date.parse(facts.headers.get("date") ?? "");
    const base = Number.isNaN(date) ? facts.responseTime : date;
    return { seconds: Math.max(0, Math.floor((exp - base) / 1000)), source: "expires" };
  }
  return null;
}

/** §4.2.2: 10% of the time since Last-Modified, capped at a day, as common caches do. */
function heuristicLifetime(facts: ResponseFacts): number | null {
  if (!HEURISTIC_STATUSES.has(facts.status)) return null;
  const lm = Date.parse(facts.headers.get("last-modified") ?? "");
  if (Number.isNaN(lm)) return null;
  const date = Date.parse(facts.headers.get("date") ?? "");
  const base = Number.isNaN(date) ? facts.responseTime : date;
  return Math.min(86_400, Math.max(0, Math.floor((base - lm) / 10_000)));
}

/** The route's TTL for this status: `status["404"]`, then `status["4xx"]`, then null. */
export function statusTtl(route: CompiledRoute, status: number): number | null {
  return route.status[String(status)] ?? route.status[`${Math.floor(status / 100)}xx`] ?? null;
}

/** §4.2.3: the age the response already had when it arrived. */
export function correctedInitialAge(facts: ResponseFacts): number {
  const date = Date.parse(facts.headers.get("date") ?? "");
  const apparentAge = Number.isNaN(date) ? 0 : Math.max(0, (facts.responseTime - date) / 1000);
  // §5.1: Age is delta-seconds; anything else is ignored, and huge values cap at 2^31 (§1.2.2).
  const rawAge = (facts.headers.get("age") ?? "").trim();
  const ageValue = /^\d+$/.test(rawAge) ? Math.min(Number(rawAge), 2 ** 31) : 0;
  const responseDelay = Math.max(0, (facts.responseTime - facts.requestTime) / 1000);
  return Math.floor(Math.max(apparentAge, ageValue + responseDelay));
}

/**
 * Whether and for how long a response may be stored, as data. Positive proof only:
 * everything that is not clearly storable is not stored.
 */
export function storeVerdict(route: CompiledRoute, facts: ResponseFacts): StoreVerdict {
  const { directives } = governingDirectives(facts.headers);
  // §5.2.2.5 no-store and §5.2.2.7 private forbid a shared cache to store, whatever a rule says.
  if (directives.has("no-store")) return { store: false, reason: "no-store" };
  // A qualified private="field" (§5.2.2.7) is read as unqualified: the safe reading.
  if (directives.has("private")) return { store: false, reason: "private" };
  // §4.1: Vary: * never matches a later request.
  const vary = facts.headers.get("vary");
  if (vary !== null && vary.split(",").some((v) => v.trim() === "*")) return { store: false, reason: "vary-star" };
  // Set-Cookie would hand one user's session to the next (design invariant 1).
  if (facts.headers.has("set-cookie") && !route.stripSetCookie) return { store: false, reason: "set-cookie" };
  // §3.5: an answer to an authorized request is stored only when the origin says it is shared.
  if (
    facts.authorized &&
    !route.cacheAuthorized &&
    !(directives.has("public") || directives.has("s-maxage") || directives.has("must-revalidate"))
  ) {
    return { store: false, reason: "authorization" };
  }

  const ruleForStatus = statusTtl(route, facts.status);
  const explicit = explicitLifetime(facts);
  const statusOk = ruleForStatus !== null
    ? ruleForStatus > 0
    : HEURISTIC_STATUSES.has(facts.status) || (explicit !== null && UNDERSTOOD_STATUSES.has(facts.status));
  if (!statusOk) return { store: false, reason: ruleForStatus === 0 ? "ttl-zero" : "status" };

  const ruleTtl = ruleForStatus ?? route.ttl.edge;
  let lifetime: number;
  let source: LifetimeSource;
  switch (route.origin) {
    case "override":
      lifetime = ruleTtl ?? 0;
      source = ruleForStatus !== null ? "status-rule" : "rule";
      break;
    case "fallback":
      if (explicit) ({ seconds: lifetime, source } = explicit);
      else if (ruleTtl !== null) {
        lifetime = ruleTtl;
        source = ruleForStatus !== null ? "status-rule" : "rule";
      } else {
        const h = route.heuristic ? heuristicLifetime(facts) : null;
        if (h === null) return { store: false, reason: "no-freshness" };
        lifetime = h;
        source = "heuristic";
      }
      break;
    case "respect": {
      const h = explicit ? null : route.heuristic ? heuristicLifetime(facts) : null;
      if (explicit) ({ seconds: lifetime, source } = explicit);
      else if (h !== null) {
        lifetime = h;
        source = "heuristic";
      } else if (facts.headers.has("etag") || facts.headers.has("last-modified")) {
        // Stored with validators only: every use is revalidated (§4.3.1).
        lifetime = 0;
        source = "validators";
      } else return { store: false, reason: "no-freshness" };
      // In respect mode a rule TTL only caps what the origin allows.
      if (ruleTtl !== null) lifetime = Math.min(lifetime, ruleTtl);
      break;
    }
    default:
      route.origin satisfies never;
      return { store: false, reason: "no-freshness" };
  }
  // §5.2.2.4 no-cache: may be stored, must be revalidated before each use (a qualified
  // no-cache="field" is read as unqualified: the safe reading).
  if (directives.has("no-cache")) lifetime = 0;
  if (lifetime <= 0 && route.origin === "override" && ruleTtl === 0) return { store: false, reason: "ttl-zero" };
  if (lifetime <= 0 && !facts.headers.has("etag") && !facts.headers.has("last-modified")) {
    // Nothing to revalidate with: storing it would only cost writes.
    return { store: false, reason: "ttl-zero" };
  }

  const swr = deltaSeconds(directives, "stale-while-revalidate") ?? route.staleWhileRevalidate;
  const sie = deltaSeconds(directives, "stale-if-error") ?? route.staleIfError;
  const mustRevalidate =
    directives.has("must-revalidate") || directives.has("proxy-revalidate") || directives.has("s-maxage");
  return {
    store: true,
    source,
    stripSetCookie: facts.headers.has("set-cookie"),
    lifetimes: {
      lifetime,
      // Under a rule TTL the clock starts when we store it: an upstream Age is not ours to spend.
      initialAge: source === "rule" || source === "status-rule" ? 0 : correctedInitialAge(facts),
      staleWhileRevalidate: mustRevalidate ? 0 : swr,
      staleIfError: mustRevalidate ? 0 : sie,
      mustRevalidate,
    },
  };
}

export type Freshness = "fresh" | "stale-while-revalidate" | "stale-if-error" | "stale";

/** §4.2.3 current age, whole seconds. */
export function currentAge(l: Pick<Lifetimes, "initialAge">, storedAt: number, now: number): number {
  return Math.max(0, Math.floor(l.initialAge + (now - storedAt) / 1000));
}

/**
 * §4.2: fresh while age < lifetime; past it, the RFC 5861 windows say how the stale
 * entry may still be used: served while a refresh runs, or only when the origin fails.
 */
export function freshness(l: Lifetimes, storedAt: number, now: number): { state: Freshness; age: number; ttl: number } {
  const age = currentAge(l, storedAt, now);
  const ttl = l.lifetime - age;
  if (ttl > 0) return { state: "fresh", age, ttl };
  const over = -ttl;
  if (over < l.staleWhileRevalidate) return { state: "stale-while-revalidate", age, ttl };
  if (over < l.staleIfError) return { state: "stale-if-error", age, ttl };
  return { state: "stale", age, ttl };
}

/** How long a tier should keep an entry: its life plus every window in which it may still serve. */
export function retentionSeconds(l: Lifetimes): number {
  return Math.max(1, l.lifetime - l.initialAge + Math.max(l.staleWhileRevalidate, l.staleIfError)) +
    // Kept a little past its windows so a stale entry with validators can still be revalidated.
    60;
}
