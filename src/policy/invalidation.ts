/**
 * What a successful unsafe request (POST, PUT, PATCH, DELETE) must make unreachable
 * (RFC 9111 §4.4): the stored answer for its URL, and only where one can be. That is
 * the route a GET of the URL takes (GET answers are what is stored), in the tiers
 * that route uses; nothing at all when it stores nothing (`bypass: true`, GET
 * bypassed, no tier). Each KV delete is billed, so an anonymous `POST /` loop must
 * not cost one per request on a route that could never have stored anything. Pure.
 */
import { matchRoute } from "../rules/match";
import type { CompiledRoute, CompiledRules } from "../rules/types";

/**
 * The route that stores `url`'s GET answers (its key settings build the key to clear,
 * its tiers say where), or null when nothing can be stored for it.
 */
export function invalidationRoute(rules: CompiledRules, url: URL): CompiledRoute | null {
  const { route } = matchRoute(rules, url, "GET");
  if (!route || route.bypass.always || route.bypass.methods.includes("GET")) return null;
  if (!route.tiers.edge && !route.tiers.kv) return null;
  return route;
}
