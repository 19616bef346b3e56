/**
 * Picking the route for a request: the first whose host, path and methods all fit.
 * Runs on every request, so it only tests precompiled patterns and builds the short
 * `tried` list that Cache-Status details and `explain` show.
 */
import type { CompiledRules, MatchResult } from "./types";

/** The first route of `rules` that matches `url` and `method`, with why each route before it did not. */
export function matchRoute(rules: CompiledRules, url: URL, method: string): MatchResult {
  const tried: MatchResult["tried"] = [];
  const hostname = url.hostname;
  const pathname = url.pathname;
  const upper = method.toUpperCase();
  for (const route of rules.routes) {
    const m = route.match;
    let reason: string | null = null;
    if (m.hostPattern !== null && !m.hostPattern.test({ hostname })) {
      reason = `host ${hostname} does not match ${m.host}`;
    } else if (!m.pattern.test(m.host === null ? { pathname } : { hostname, pathname })) {
      reason = `path ${pathname} does not match ${m.path}`;
    } else if (m.methods !== null && !m.methods.includes(upper)) {
      reason = `method ${upper} not in ${m.methods.join(", ")}`;
    }
    if (reason === null) {
      tried.push({ name: route.name, matched: true, reason: "matched" });
      return { route, tried };
    }
    tried.push({ name: route.name, matched: false, reason });
  }
  return { route: null, tried };
}
