/**
 * Picking the route for a request: the first whose host, path and methods all fit.
 * Runs on every request, so it only runs the tests compiled with the rules
 * (rules/pattern-test.ts) and builds nothing: the `tried` list that `explain` shows
 * is made only when it is read.
 */
import type { CompiledRoute, CompiledRules, MatchResult } from "./types";

/**
 * The first route of `rules` that matches `url` and `method`, with why each route before it did not.
 * A HEAD is matched as its GET: it is answered from, and fills, the GET's entry (RFC 9110
 * §9.3.2), which must carry the GET's route (its lifetimes, its name for route purges).
 */
export function matchRoute(rules: CompiledRules, url: URL, asked: string): MatchResult {
  // The Fetch standard upper-cases "head" in a Request; explain upper-cases what it is asked.
  const method = asked === "HEAD" ? "GET" : asked;
  const hostname = url.hostname;
  const pathname = url.pathname;
  const routes = rules.routes;
  let winner = -1;
  for (let i = 0; i < routes.length; i++) {
    if (mismatch(routes[i]!, hostname, pathname, method) === null) {
      winner = i;
      break;
    }
  }
  return {
    route: winner < 0 ? null : routes[winner]!,
    get tried() {
      return triedList(routes, winner, hostname, pathname, method, asked);
    },
  };
}

/** Which part of `route` does not fit, or null when it matches. */
function mismatch(route: CompiledRoute, hostname: string, pathname: string, method: string): "host" | "path" | "method" | null {
  const m = route.match;
  if (m.testHost !== null && !m.testHost(hostname)) return "host";
  if (!m.testPath(pathname)) return "path";
  // Methods are compiled upper-case; a request's usually is already.
  if (m.methods !== null && !m.methods.includes(method) && !m.methods.includes(method.toUpperCase())) return "method";
  return null;
}

/** Why each route up to the winner did or did not match (for explain and Cache-Status details). */
function triedList(routes: readonly CompiledRoute[], winner: number, hostname: string, pathname: string, method: string, asked: string): MatchResult["tried"] {
  const upper = asked.toUpperCase();
  const note = upper === "HEAD" ? " (HEAD is matched as GET)" : "";
  return routes.slice(0, winner < 0 ? routes.length : winner + 1).map((route) => {
    const m = route.match;
    switch (mismatch(route, hostname, pathname, method)) {
      case null:
        return { name: route.name, matched: true, reason: "matched" };
      case "host":
        return { name: route.name, matched: false, reason: `host ${hostname} does not match ${m.host}` };
      case "path":
        return { name: route.name, matched: false, reason: `path ${pathname} does not match ${m.path}` };
      case "method":
        return { name: route.name, matched: false, reason: `method ${upper} not in ${m.methods!.join(", ")}${note}` };
    }
  });
}
