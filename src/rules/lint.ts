/**
 * Warnings for rules that are valid but risky: each check is one small named
 * function over the compiled rules that returns its findings. Pure. Used by
 * `edge-cache rules check` and by `PUT /.edge-cache/rules`; never by parsing itself,
 * so a risky file still runs (the operator may mean it), with the risk spelled out.
 */
import { at } from "./report";
import type { CompiledRoute, CompiledRules, Problem, RouteSettings } from "./types";

/** Request headers with a value per user or per request: keying on them stores one copy per value. */
const HIGH_CARDINALITY_HEADERS: readonly string[] = [
  "user-agent",
  "cookie",
  "authorization",
  "x-forwarded-for",
  "cf-connecting-ip",
  "true-client-ip",
  "x-real-ip",
  "forwarded",
  "referer",
  "x-request-id",
  "cf-ray",
  "traceparent",
  "if-none-match",
  "if-modified-since",
  "date",
];

/** Extensions that are pages rather than assets. */
const PAGE_EXTENSIONS = new Set(["html", "htm", "shtml", "xhtml", "php", "asp", "aspx", "jsp", "cfm"]);
const ASSET_DIRS = ["/assets/", "/static/", "/_next/static/", "/build/", "/dist/", "/images/", "/img/", "/fonts/", "/css/", "/js/", "/media/"];

/** A warning and the route it is about (its path may point at the defaults the route inherits). */
interface Finding {
  route: number;
  problem: Problem;
}

type Lint = (rules: CompiledRules) => Finding[];

/** Every warning for `rules`, in route order, then check order: the file reads top to bottom. */
export function lintRules(rules: CompiledRules): Problem[] {
  return LINTS.flatMap((lint) => lint(rules))
    .map((f, i) => ({ ...f, i }))
    .sort((a, b) => a.route - b.route || a.i - b.i)
    .map((f) => f.problem);
}

const LINTS: Lint[] = [
  function overrideOnPagesWithoutCookieBypass(rules) {
    return eachStoringRoute(rules, (route, i) => {
      if (route.origin !== "override" || !mayServePages(route.match.path) || route.bypass.cookies.globs.length > 0) return null;
      return warning(
        where(rules, i, "origin"),
        `route "${route.name}" overrides the origin's Cache-Control on what may be HTML pages, and no cookie bypasses it: a page rendered for a logged-in user can be stored and shown to everyone`,
        'add "bypass": { "cookies": ["session*", ...] } with your session cookie names, or use "origin": "fallback" so the origin\'s private/no-store still count',
      );
    });
  },
  function storesAuthorizedAnswers(rules) {
    return eachStoringRoute(rules, (route, i) => {
      if (!route.cacheAuthorized || route.bypass.headers.includes("authorization")) return null;
      return warning(
        where(rules, i, "cacheAuthorized"),
        `route "${route.name}" stores answers to requests with Authorization even when the origin did not mark them public: one user's answer can be served to another`,
        'remove "cacheAuthorized" unless every answer on this route is the same for every user; an origin can allow it per response with Cache-Control: public or s-maxage',
      );
    });
  },
  function stripsSetCookie(rules) {
    return eachStoringRoute(rules, (route, i) => {
      if (!route.stripSetCookie) return null;
      return warning(
        where(rules, i, "stripSetCookie"),
        `route "${route.name}" stores answers that set cookies, with Set-Cookie removed: the user who caused the miss gets no cookie from the cache, and a page that depends on the cookie can be shared`,
        'remove "stripSetCookie" unless the origin sets only tracking cookies on this route; better, stop the origin from setting cookies there',
      );
    });
  },
  function keysOnHighCardinalityHeader(rules) {
    return eachStoringRoute(rules, (route, i) => {
      const risky = route.key.headers.filter((h) => HIGH_CARDINALITY_HEADERS.includes(h));
      if (risky.length === 0) return null;
      return warning(
        where(rules, i, "key"),
        `route "${route.name}" keys on ${risky.map((h) => `"${h}"`).join(", ")}, which differ${risky.length === 1 ? "s" : ""} per user or per request: almost every request is a miss, and each stores another copy`,
        risky.includes("user-agent")
          ? 'for mobile and desktop pages use "key": { "device": true } (three variants) instead of the whole User-Agent'
          : "key on a coarse header the origin really varies on (e.g. accept-language), or let the origin send Vary",
      );
    });
  },
  function keysAssetsOnDimension(rules) {
    return eachStoringRoute(rules, (route, i) => {
      const dims = keyedDimensions(route);
      if (dims.length === 0 || mayServePages(route.match.path)) return null;
      return warning(
        where(rules, i, "key"),
        `route "${route.name}" keys on ${dims.join(", ")}, but its path (${route.match.path}) names static assets, which an origin does not seem to vary on: each asset is stored and fetched up to once per value for the same bytes`,
        `remove "${dims[0]}" from this route's "key" (set it on the page routes only), or name the route's path after what really differs`,
      );
    });
  },
  function minHitsWithoutKv(rules) {
    return eachStoringRoute(rules, (route, i) => {
      if (route.kv.minHits <= 1 || route.tiers.kv) return null;
      return warning(where(rules, i, "kv"), `route "${route.name}" sets kv.minHits but stores nothing in KV (ttl.kv is 0): it has no effect`, 'give the route a "ttl": { "kv": ... } of 60 or more, or remove "kv"');
    });
  },
  function headWithoutGet(rules) {
    const out: Finding[] = [];
    rules.routes.forEach((route, i) => {
      const methods = route.match.methods;
      if (methods === null || !methods.includes("HEAD") || methods.includes("GET")) return;
      out.push({
        route: i,
        // A HEAD is matched as its GET (rules/match.ts): it shares the GET's entry and route.
        problem: warning(at(at(at("$.routes", i), "match"), "methods"), `route "${route.name}" lists HEAD but not GET: a HEAD is matched as the GET it stands for, so this route never matches a HEAD`, 'add "GET" to its "methods", or remove "HEAD"'),
      });
    });
    return out;
  },
  function fallbackWithoutHealth(rules) {
    return eachStoringRoute(rules, (route, i) => {
      if (route.fallbackOrigin === null || route.originHealth !== null) return null;
      // Only a route can name a fallbackOrigin (defaults refuse it): the field is the route's own.
      return warning(at(at("$.routes", i), "fallbackOrigin"), `route "${route.name}" has a fallbackOrigin but originHealth is false: the origin is never taken for down, so the fallback is never asked`, 'remove "originHealth": false, or the fallbackOrigin');
    });
  },
  function shadowsLaterRoute(rules) {
    const out: Finding[] = [];
    rules.routes.forEach((later, j) => {
      const earlier = rules.routes.slice(0, j).find((e) => coversByPrefix(e, later));
      if (!earlier) return;
      out.push({
        route: j,
        problem: warning(
          at(at("$.routes", j), "match"),
          `route "${later.name}" never matches: route "${earlier.name}" (${at("$.routes", earlier.index)}) comes first and matches every request it would (${earlier.match.path} takes ${later.match.path})`,
          `move "${later.name}" above "${earlier.name}", or narrow "${earlier.name}"'s match`,
        ),
      });
    });
    return out;
  },
];

/** The device/country/language dimensions a route keys on, by field name. */
function keyedDimensions(route: CompiledRoute): string[] {
  const k = route.key;
  return [k.device ? "device" : null, k.country ? "country" : null, k.language ? "language" : null].filter((d): d is string => d !== null);
}

function eachStoringRoute(rules: CompiledRules, check: (route: CompiledRoute, i: number) => Problem | null): Finding[] {
  const out: Finding[] = [];
  rules.routes.forEach((route, i) => {
    // A route that always bypasses or stores nowhere cannot do the harm these checks look for.
    if (route.bypass.always || (!route.tiers.edge && !route.tiers.kv)) return;
    const problem = check(route, i);
    if (problem) out.push({ route: i, problem });
  });
  return out;
}

/** Where a route's setting was written: the route, else the defaults it inherits from. */
function where(rules: CompiledRules, i: number, field: keyof RouteSettings): string {
  const own = rules.source.routes[i];
  if (own && Object.hasOwn(own, field)) return at(at("$.routes", i), field);
  if (rules.source.defaults && Object.hasOwn(rules.source.defaults, field)) return at("$.defaults", field);
  return at("$.routes", i);
}

/** False only when the path pattern plainly names assets (a static directory or non-page extensions). */
export function mayServePages(path: string): boolean {
  const lower = path.toLowerCase();
  if (ASSET_DIRS.some((d) => lower.startsWith(d))) return false;
  const ext = /\.(?:\(([a-z0-9|]+)\)|([a-z0-9]+))$/.exec(lower);
  if (!ext) return true;
  const list = (ext[1] ?? ext[2] ?? "").split("|");
  return list.some((e) => PAGE_EXTENSIONS.has(e));
}

/**
 * `earlier` takes every request `later` would match because its path is a plain
 * prefix wildcard (`/blog/*`) that `later`'s path starts with, on the same host and
 * methods. The validator already refuses the simpler cases (`/*`, equal paths).
 */
function coversByPrefix(earlier: CompiledRoute, later: CompiledRoute): boolean {
  const e = earlier.match;
  const l = later.match;
  if (!e.path.endsWith("/*")) return false;
  const prefix = e.path.slice(0, -1);
  if (/[:*(){}?+\\]/.test(prefix) || !l.path.startsWith(prefix) || l.path === e.path) return false;
  const host = e.host === null || e.host === l.host;
  const methods = e.methods === null || (l.methods !== null && l.methods.every((m) => e.methods!.includes(m)));
  return host && methods;
}

function warning(path: string, message: string, hint: string): Problem {
  return { severity: "warning", path, message, hint };
}
