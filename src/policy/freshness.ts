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
import {
  correctedInitialAge,
  explicitLifetime,
  hasValidators,
  LIFETIME_BY_MODE,
  type LifetimeSource,
  statusTtl,
} from "./lifetime";
import { noStoreReason, type NoStoreReason, type ResponseFacts } from "./storable";

export { correctedInitialAge, HEURISTIC_STATUSES, statusTtl, type LifetimeSource } from "./lifetime";
export type { NoStoreReason, ResponseFacts } from "./storable";

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

/**
 * Whether and for how long a response may be stored, as data: the checks of
 * storable.ts, then the route's origin mode's lifetime (lifetime.ts), then what the
 * directives do to it.
 */
export function storeVerdict(route: CompiledRoute, facts: ResponseFacts): StoreVerdict {
  const { field, directives } = governingDirectives(facts.headers);
  const input = { route, facts, directives, field, ruleForStatus: statusTtl(route, facts.status) };
  const reason = noStoreReason({ ...input, explicit: explicitLifetime(input) });
  if (reason) return { store: false, reason };
  const found = LIFETIME_BY_MODE[route.origin](input);
  if (!found) return { store: false, reason: "no-freshness" };
  const { source } = found;
  const fromRule = source === "rule" || source === "status-rule";
  let lifetime = found.seconds;
  // §5.2.2.4 no-cache: may be stored, must be revalidated before each use (a qualified
  // no-cache="field" is read as unqualified: the safe reading).
  if (directives.has("no-cache")) lifetime = 0;
  if (lifetime <= 0 && route.origin === "override" && (input.ruleForStatus ?? route.ttl.edge) === 0) {
    return { store: false, reason: "ttl-zero" };
  }
  // Nothing to revalidate with: storing it would only cost writes.
  if (lifetime <= 0 && !hasValidators(facts.headers)) return { store: false, reason: "ttl-zero" };

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
      initialAge: fromRule ? 0 : correctedInitialAge(facts),
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
