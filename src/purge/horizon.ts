/**
 * How long a purge record matters: while any copy it covers can still be served.
 * That is the longest retention of any route: its longest lifetime (a rule TTL, or
 * a cap on the origin's) plus its stale windows and the minute kept for
 * revalidation (`retentionSeconds`), or its KV TTL, whichever is longer. A route
 * whose lifetime the origin alone decides has no bound the rules know of: then
 * `RECORD_HORIZON_MS` (400 days) stands. Pure.
 */
import { RECORD_HORIZON_MS } from "./records";
import type { CompiledRoute, CompiledRules } from "../rules/types";

/** Seconds the longest-lived copy of one route can be served, or null when the rules set no bound. */
export function routeRetention(route: CompiledRoute): number | null {
  const statusTtls = Object.values(route.status);
  // Override: the rule's TTL is the lifetime; respect: a rule TTL caps the origin's.
  const bounded = route.origin === "override" || (route.origin === "respect" && route.ttl.edge !== null);
  if (!bounded) return null;
  const lifetime = Math.max(route.ttl.edge ?? 0, ...statusTtls);
  const windows = Math.max(route.staleWhileRevalidate, route.staleIfError);
  return Math.max(lifetime + windows + 60, route.ttl.kv);
}

export function purgeHorizonMs(rules: CompiledRules): number {
  let longest = 0;
  for (const route of rules.routes) {
    const s = routeRetention(route);
    if (s === null) return RECORD_HORIZON_MS;
    longest = Math.max(longest, s * 1000);
  }
  return Math.min(longest, RECORD_HORIZON_MS);
}
