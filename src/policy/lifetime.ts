/**
 * Freshness lifetimes (RFC 9111 §4.2.1, §4.2.2, §4.2.3), and how a route's TTLs
 * combine with them: one small function per `origin` mode. Pure.
 */
import type { CompiledRoute, OriginMode } from "../rules/types";
import { deltaSeconds, type Directives } from "./cache-control";
import { parseHttpDate } from "./http-date";

/** §4.2.2: status codes that are "heuristically cacheable" (RFC 9110 §15.1), less 206 (we never store parts). */
export const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

export type LifetimeSource = "s-maxage" | "max-age" | "expires" | "heuristic" | "rule" | "status-rule" | "validators";

/** What the lifetime rules read from a response. */
export interface LifetimeFacts {
  status: number;
  headers: Headers;
  /** When the response headers arrived, ms since epoch. */
  responseTime: number;
}

/** The response as the lifetime rules see it: facts, the governing directives, and the route's TTLs. */
export interface LifetimeInput {
  route: CompiledRoute;
  facts: LifetimeFacts;
  directives: Directives;
  /** Which field the directives came from (RFC 9213 §2.1). */
  field: string;
  /** The route's TTL for this status, or null (see `statusTtl`). */
  ruleForStatus: number | null;
}

export type Lifetime = { seconds: number; source: LifetimeSource };

/** The route's TTL for this status: `status["404"]`, then `status["4xx"]`, then null. */
export function statusTtl(route: CompiledRoute, status: number): number | null {
  return route.status[String(status)] ?? route.status[`${Math.floor(status / 100)}xx`] ?? null;
}

/** The date a response was generated (RFC 9110 §6.6.1), or when it arrived when it has no valid Date. */
function dateOf(facts: LifetimeFacts): number {
  return parseHttpDate(facts.headers.get("date"), facts.responseTime) ?? facts.responseTime;
}

/** Lifetime the origin states explicitly (§4.2.1), or null. */
export function explicitLifetime({ facts, directives, field }: Omit<LifetimeInput, "route" | "ruleForStatus">): Lifetime | null {
  const sMaxage = deltaSeconds(directives, "s-maxage");
  if (sMaxage !== null) return { seconds: sMaxage, source: "s-maxage" };
  const maxAge = deltaSeconds(directives, "max-age");
  if (maxAge !== null) return { seconds: maxAge, source: "max-age" };
  // RFC 9213 §2.1: a cache obeying a targeted field ignores Expires as well.
  const expires = field === "cache-control" ? facts.headers.get("expires") : null;
  if (expires === null) return null;
  const exp = parseHttpDate(expires, facts.responseTime);
  // §5.3: an invalid Expires (such as "0") means already expired.
  if (exp === null) return { seconds: 0, source: "expires" };
  return { seconds: Math.max(0, Math.floor((exp - dateOf(facts)) / 1000)), source: "expires" };
}

/**
 * §4.2.2: heuristics only for a heuristically cacheable status, or one marked
 * `public`; then 10% of the time since Last-Modified, capped at a day, as common caches do.
 */
function heuristicLifetime({ route, facts, directives }: LifetimeInput): Lifetime | null {
  if (!route.heuristic || !(HEURISTIC_STATUSES.has(facts.status) || directives.has("public"))) return null;
  const lm = parseHttpDate(facts.headers.get("last-modified"), facts.responseTime);
  if (lm === null) return null;
  return { seconds: Math.min(86_400, Math.max(0, Math.floor((dateOf(facts) - lm) / 10_000))), source: "heuristic" };
}

/** The route's own TTL (the status's first), or null when it has none. */
function ruleLifetime({ route, ruleForStatus }: LifetimeInput): Lifetime | null {
  if (ruleForStatus !== null) return { seconds: ruleForStatus, source: "status-rule" };
  return route.ttl.edge === null ? null : { seconds: route.ttl.edge, source: "rule" };
}

export const hasValidators = (h: Headers) => h.has("etag") || h.has("last-modified");

/** Each origin mode's lifetime, or null when there is none (the response is then not stored). */
export const LIFETIME_BY_MODE: Record<OriginMode, (input: LifetimeInput) => Lifetime | null> = {
  /** The rule decides; the origin's headers only forbid (checked before). */
  override: (input) => ruleLifetime(input) ?? { seconds: 0, source: "rule" },

  /** The origin's explicit lifetime, else the rule's, else (if enabled) a heuristic. */
  fallback: (input) => explicitLifetime(input) ?? ruleLifetime(input) ?? heuristicLifetime(input),

  /** The origin decides, as a standard shared cache; a rule TTL only caps. */
  respect(input) {
    const own =
      explicitLifetime(input) ??
      heuristicLifetime(input) ??
      // Stored with validators only (the status check has let it be stored): every use is revalidated (§4.3.1).
      (hasValidators(input.facts.headers) ? { seconds: 0, source: "validators" as const } : null);
    const cap = ruleLifetime(input);
    return own && cap ? { ...own, seconds: Math.min(own.seconds, cap.seconds) } : own;
  },
};

/**
 * §5.1: Age as delta-seconds, or "invalid". With several Age lines (or a list) the
 * first member counts; null when there is none. An invalid value is ignored ("the cache
 * SHOULD ignore the field"): the answer is as fresh as its lifetime says.
 */
export function ageValue(headers: Headers): number | "invalid" | null {
  const raw = headers.get("age");
  if (raw === null) return null;
  const first = raw.split(",")[0]!.trim();
  // Huge values cap at 2^31 (§1.2.2).
  return /^\d+$/.test(first) ? Math.min(Number(first), 2 ** 31) : "invalid";
}

/** §4.2.3: the age the response already had when it arrived. */
export function correctedInitialAge(facts: LifetimeFacts & { requestTime: number }): number {
  const date = parseHttpDate(facts.headers.get("date"), facts.responseTime);
  const apparentAge = date === null ? 0 : Math.max(0, (facts.responseTime - date) / 1000);
  const age = ageValue(facts.headers);
  const responseDelay = Math.max(0, (facts.responseTime - facts.requestTime) / 1000);
  return Math.floor(Math.max(apparentAge, (typeof age === "number" ? age : 0) + responseDelay));
}
