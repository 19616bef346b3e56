/**
 * Validation of a whole rules file: the top level, each route and its match, then
 * what only shows across routes (duplicate names, routes shadowed by earlier ones).
 * Every problem is reported, never just the first; nothing here throws.
 */
import { checkObject, isObject, methodName, stringList, type Checker } from "./check";
import { Report, at, jsonType } from "./report";
import { BYPASS_SHAPE, COUNTRY_SHAPE, KEY_SHAPE, KV_SHAPE, MISPLACED_SETTINGS, ORIGIN_HEALTH_SHAPE, QUERY_SHAPE, SETTINGS_SHAPE, SIZE_SHAPE, TTL_SHAPE } from "./settings-shape";
import { RULES_VERSION, type RouteMatch, type RouteRule, type RulesFile } from "./types";

type ShapeOf<T> = Readonly<Record<keyof Required<T>, Checker>>;

const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const URLPATTERN_HINT = 'use URLPattern syntax, e.g. "/blog/:slug", "/assets/*" or "/*.(css|js)"; every ( needs its )';

const matchPath: Checker = (value, path, report) => {
  if (typeof value !== "string") {
    report.error(path, `expected a path pattern (a string), got ${jsonType(value)}`, 'e.g. "/assets/*"');
  } else if (value !== "*" && !value.startsWith("/")) {
    const hint = /^[a-z]+:\/\//i.test(value) ? 'write only the path here; put the host name in "host"' : `write "/${value}"`;
    report.error(path, `path pattern must start with "/", got ${JSON.stringify(value)}`, hint);
  } else if (!compiles({ pathname: value })) {
    // In URLPattern `?` marks the part before it optional, so a pasted query string breaks the pattern.
    const hint = /\?[^)]*=/.test(value) ? "a path pattern matches the path only: remove the query string (from ?)" : URLPATTERN_HINT;
    report.error(path, `invalid path pattern ${JSON.stringify(value)}`, hint);
  }
};

const matchHost: Checker = (value, path, report) => {
  const hint = 'write a host name pattern alone, e.g. "example.com" or "*.example.com", without scheme, port or path';
  if (typeof value !== "string") {
    report.error(path, `expected a host pattern (a string), got ${jsonType(value)}`, hint);
  } else if (value === "" || /[/\s@]/.test(value) || /:\d*$/.test(value) || !compiles({ hostname: value })) {
    // Scheme, path, credentials and port are not part of the hostname component.
    report.error(path, `invalid host pattern ${JSON.stringify(value)}`, hint);
  }
};

// Engines differ in how (and whether) they say what is wrong, so only the verdict is used.
function compiles(init: { pathname?: string; hostname?: string }): boolean {
  try {
    new URLPattern(init);
    return true;
  } catch {
    return false;
  }
}

export const MATCH_SHAPE: ShapeOf<RouteMatch> = {
  path: matchPath,
  host: matchHost,
  methods: stringList(methodName, { nonEmpty: ["an empty list of methods matches no request", 'omit "methods" to match any method'] }),
};

const routeName: Checker = (value, path, report) => {
  if (typeof value !== "string") report.error(path, `expected a route name (a string), got ${jsonType(value)}`, 'e.g. "assets"');
  else if (!ROUTE_NAME.test(value)) {
    report.error(path, `invalid route name ${JSON.stringify(value)}`, "use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (it shows in Cache-Status)");
  }
};

export const ROUTE_SHAPE: ShapeOf<RouteRule> = {
  name: routeName,
  match: (v, p, r) => checkObject(v, p, r, MATCH_SHAPE, {
    what: "the match conditions",
    wrongTypeHint: (v) => (typeof v === "string" ? `write { "path": ${JSON.stringify(v)} }` : 'write { "path": "/..." }; { } matches every request'),
  }),
  ...SETTINGS_SHAPE,
  fallbackOrigin: (v, p, r) => originUrl(v, p, r),
};

// Settings that only matter when a response is cached; `bypass: true` makes them moot.
const CACHING_FIELDS = ["ttl", "status", "origin", "staleWhileRevalidate", "staleIfError", "heuristic", "clientCacheControl", "stripSetCookie", "cacheAuthorized", "maxVariants", "maxObjectSize", "key", "tags", "originHealth", "buildHeader", "kv", "fallbackOrigin", "storePostAnswers"] as const;

const route = (value: unknown, path: string, report: Report): void => {
  const isRoute = checkObject(value, path, report, ROUTE_SHAPE, {
    what: "a route",
    wrongTypeHint: () => 'write it as { "name": "...", "match": { "path": "/..." }, ...settings }',
    required: ["name", "match"],
    misplaced: MISPLACED_SETTINGS,
    requiredHints: { name: 'add a unique "name", e.g. "assets"', match: 'add "match": { "path": "/..." }; { } matches every request' },
  });
  if (!isRoute || value.bypass !== true) return;
  for (const field of CACHING_FIELDS) {
    if (Object.hasOwn(value, field)) {
      report.warning(at(path, field), "has no effect: this route always bypasses the cache", 'remove it, or give "bypass" conditions instead of true');
    }
  }
};

/** The match of a route that validated, normalized for comparing routes. */
interface MatchSummary {
  path: string;
  host: string | null;
  methods: readonly string[] | null;
}

function summarize(value: unknown): MatchSummary | null {
  if (!isObject(value) || !isObject(value.match)) return null;
  const scratch = new Report();
  checkObject(value.match, "$", scratch, MATCH_SHAPE, { what: "" });
  if (scratch.errorCount > 0) return null;
  const m = value.match as RouteMatch;
  return { path: m.path ?? "/*", host: m.host ?? null, methods: m.methods?.map((x) => x.toUpperCase()) ?? null };
}

/** True when every request `later` matches is matched by `earlier` first (a safe approximation: never a false alarm). */
function covers(earlier: MatchSummary, later: MatchSummary): boolean {
  const path = earlier.path === "/*" || earlier.path === "*" || earlier.path === later.path;
  const host = earlier.host === null || earlier.host === later.host;
  const methods = earlier.methods === null || (later.methods !== null && later.methods.every((m) => earlier.methods!.includes(m)));
  return path && host && methods;
}

const routes: Checker = (value, path, report) => {
  if (!Array.isArray(value)) {
    report.error(path, `expected a list of routes, got ${jsonType(value)}`, 'write "routes": [ { "name": ..., "match": { ... } }, ... ]');
    return;
  }
  if (value.length === 0) {
    report.warning(path, "no routes: every request passes through uncached", 'add a route, e.g. { "name": "all", "match": { "path": "/*" } }');
  }
  const names = new Map<string, number>();
  const summaries: (MatchSummary | null)[] = [];
  value.forEach((item, i) => {
    route(item, at(path, i), report);
    const name = isObject(item) && typeof item.name === "string" ? item.name : null;
    if (name !== null) {
      const first = names.get(name);
      if (first === undefined) names.set(name, i);
      else report.error(at(at(path, i), "name"), `duplicate route name ${JSON.stringify(name)} (also ${at(path, first)})`, "give each route its own name");
    }
    const summary = summarize(item);
    summaries.push(summary);
    if (summary === null) return;
    const shadow = summaries.findIndex((earlier, j) => j < i && earlier !== null && covers(earlier, summary));
    if (shadow >= 0) {
      const earlier = value[shadow] as { name?: unknown };
      const label = typeof earlier.name === "string" ? `route "${earlier.name}"` : "an earlier route";
      report.error(at(at(path, i), "match"), `this route can never match: ${label} (${at(path, shadow)}) matches every request it would`, `move it above ${label}, or narrow ${label}'s match`);
    }
  });
};

const version: Checker = (value, path, report) => {
  if (value === RULES_VERSION) return;
  if (typeof value === "number") report.error(path, `unsupported version ${value}`, `this edge-cache reads version ${RULES_VERSION} files only; write "version": ${RULES_VERSION} and check the fields against the docs`);
  else report.error(path, `expected the number ${RULES_VERSION}, got ${jsonType(value)}`, `write "version": ${RULES_VERSION}, without quotes`);
};

const originUrl: Checker = (value, path, report) => {
  const hint = 'write an absolute URL such as "https://origin.example.com" (a path prefix is allowed), or omit "origin" to fetch the request\'s own URL';
  if (typeof value !== "string") {
    report.error(path, `expected an origin URL (a string), got ${jsonType(value)}`, hint);
    return;
  }
  if (value === "respect" || value === "override" || value === "fallback") {
    report.error(path, `${JSON.stringify(value)} is an origin mode, but the top-level "origin" is the origin's URL`, 'put the mode inside "defaults": { "origin": ... }');
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    report.error(path, `origin must be an absolute http(s) URL, got ${JSON.stringify(value)}`, hint);
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") report.error(path, `origin must use http or https, got ${url.protocol.slice(0, -1)}`, hint);
  else if (value.includes("?") || value.includes("#")) report.error(path, "origin must not have a query or fragment", "remove everything from the ? or #");
  else if (url.username !== "" || url.password !== "") report.error(path, "origin must not hold credentials", "remove user:password@; send credentials from the Worker, not the rules file");
};

export const FILE_SHAPE: ShapeOf<RulesFile> = {
  $schema: (v, p, r) => {
    if (typeof v !== "string") r.error(p, `expected a string, got ${jsonType(v)}`, 'e.g. "./routes.schema.json"');
  },
  version,
  origin: originUrl,
  defaults: (v, p, r) => checkObject(v, p, r, SETTINGS_SHAPE, {
    what: "the default settings",
    misplaced: {
      ...MISPLACED_SETTINGS,
      name: "names belong to routes",
      match: 'put it in a route: "routes": [ { "name": ..., "match": ... } ]',
      fallbackOrigin: "a fallback origin is set per route, in the routes that should use it",
    },
  }),
  routes,
};

/** The allowed field names of each object in the file, for the JSON Schema agreement test. */
export const FIELD_NAMES = {
  file: Object.keys(FILE_SHAPE),
  settings: Object.keys(SETTINGS_SHAPE),
  route: Object.keys(ROUTE_SHAPE),
  match: Object.keys(MATCH_SHAPE),
  ttl: Object.keys(TTL_SHAPE),
  maxObjectSize: Object.keys(SIZE_SHAPE),
  key: Object.keys(KEY_SHAPE),
  keyQuery: Object.keys(QUERY_SHAPE),
  keyCountry: Object.keys(COUNTRY_SHAPE),
  bypass: Object.keys(BYPASS_SHAPE),
  originHealth: Object.keys(ORIGIN_HEALTH_SHAPE),
  kv: Object.keys(KV_SHAPE),
} as const;

/** Reports every problem of `input` (a parsed JSON value) into `report`. */
export function validateRules(input: unknown, report: Report): void {
  checkObject(input, "$", report, FILE_SHAPE, {
    what: "a rules file",
    required: ["version", "routes"],
    misplaced: { ...MISPLACED_SETTINGS, ...Object.fromEntries(Object.keys(SETTINGS_SHAPE).map((k) => [k, `put it inside "defaults" (or a route)`])) },
    requiredHints: { version: `add "version": ${RULES_VERSION}`, routes: 'add "routes": [ { "name": ..., "match": { "path": "/*" } } ]' },
  });
}

