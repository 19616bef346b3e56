/**
 * Turns a validated rules file into the fully defaulted shape the proxy uses. Each
 * setting is the route's value, else the file's `defaults`, else the built-in one;
 * objects (ttl, status, key.query, bypass conditions) merge field by field, lists
 * replace. Runs once per isolate, so clarity wins over speed here.
 */
import { BUILTIN_DEFAULTS as B, builtinEdgeTtl, builtinHeuristic } from "./defaults";
import { compileGlobs } from "./glob";
import { compileComponentTest } from "./pattern-test";
import type { BypassConditions, CompiledBypass, CountryGroups, CompiledKey, CompiledRoute, CompiledRules, RouteRule, RouteSettings, RulesFile } from "./types";

/** Compiles a file that `validateRules` accepted; on anything else it may throw. */
export function compileRules(file: RulesFile): CompiledRules {
  const defaults = file.defaults ?? {};
  return {
    version: 1,
    origin: file.origin === undefined ? null : normalizeOrigin(file.origin),
    routes: Object.freeze(file.routes.map((route, index) => compileRoute(route, index, defaults))),
    source: structuredClone(file),
  };
}

/** `https://o.example.com/base/` -> `https://o.example.com/base`: the proxy appends the request path. */
function normalizeOrigin(origin: string): string {
  const url = new URL(origin);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function compileRoute(route: RouteRule, index: number, d: RouteSettings): CompiledRoute {
  const mode = route.origin ?? d.origin ?? B.origin;
  const path = route.match.path ?? "/*";
  const host = route.match.host ?? null;
  const ttl = {
    edge: route.ttl?.edge ?? d.ttl?.edge ?? builtinEdgeTtl(mode),
    kv: route.ttl?.kv ?? d.ttl?.kv ?? B.ttl.kv,
    browser: route.ttl?.browser ?? d.ttl?.browser ?? B.ttl.browser,
  };
  return {
    name: route.name,
    index,
    match: {
      path,
      host,
      methods: route.match.methods ? Object.freeze(route.match.methods.map((m) => m.toUpperCase())) : null,
      testPath: compileComponentTest("pathname", path),
      testHost: host === null ? null : compileComponentTest("hostname", host),
    },
    ttl,
    tiers: { edge: ttl.edge !== 0, kv: ttl.kv > 0 },
    status: Object.freeze({ ...B.status, ...d.status, ...route.status }),
    origin: mode,
    staleWhileRevalidate: route.staleWhileRevalidate ?? d.staleWhileRevalidate ?? B.staleWhileRevalidate,
    staleIfError: route.staleIfError ?? d.staleIfError ?? B.staleIfError,
    heuristic: route.heuristic ?? d.heuristic ?? builtinHeuristic(mode),
    clientCacheControl: route.clientCacheControl ?? d.clientCacheControl ?? B.clientCacheControl,
    stripSetCookie: route.stripSetCookie ?? d.stripSetCookie ?? B.stripSetCookie,
    cacheAuthorized: route.cacheAuthorized ?? d.cacheAuthorized ?? B.cacheAuthorized,
    storePostAnswers: route.storePostAnswers ?? d.storePostAnswers ?? B.storePostAnswers,
    originTimeoutMs: Math.round((route.originTimeout ?? d.originTimeout ?? B.originTimeout) * 1000),
    maxVariants: route.maxVariants ?? d.maxVariants ?? B.maxVariants,
    maxObjectSize: { edge: route.maxObjectSize?.edge ?? d.maxObjectSize?.edge ?? B.maxObjectSize.edge },
    key: compileKey(route, d),
    bypass: compileBypass(route.bypass ?? d.bypass, d.bypass),
    tags: Object.freeze([...(route.tags ?? d.tags ?? B.tags)]),
    debug: route.debug ?? d.debug ?? B.debug,
    log: route.log ?? d.log ?? B.log,
    shield: route.shield ?? d.shield ?? B.shield,
    originHealth: compileHealth(route.originHealth, d.originHealth),
    fallbackOrigin: route.fallbackOrigin === undefined ? null : normalizeOrigin(route.fallbackOrigin),
    buildHeader: compileBuildHeader(route.buildHeader ?? d.buildHeader),
    kv: { minHits: route.kv?.minHits ?? d.kv?.minHits ?? B.kv.minHits },
  };
}

/**
 * false (the route's, else the defaults') turns it off; objects merge field by field
 * over the built-in values (a route's `count` replaces the defaults' list).
 */
function compileHealth(own: RouteSettings["originHealth"], fromDefaults: RouteSettings["originHealth"]): CompiledRoute["originHealth"] {
  if (own === false || (own === undefined && fromDefaults === false)) return null;
  const base = fromDefaults || {};
  const failures = own?.failures ?? base.failures ?? B.originHealth.failures;
  const coolOff = own?.coolOff ?? base.coolOff ?? B.originHealth.coolOff;
  const count = [...new Set(own?.count ?? base.count ?? B.originHealth.count)];
  // Absent when empty: the compiled route (and explain's JSON) only names what a route opted in to.
  return { failures, coolOffMs: Math.round(coolOff * 1000), ...(count.length > 0 ? { count: Object.freeze(count) } : {}) };
}

function compileBuildHeader(setting: string | false | undefined): string | null {
  return typeof setting === "string" ? setting.toLowerCase() : null;
}

function compileKey(route: RouteSettings, d: RouteSettings): CompiledKey {
  const q = route.key?.query;
  const dq = d.key?.query;
  // ignore and allow are one setting (which names count): a route giving either replaces both of the defaults'.
  const names = q?.allow || q?.ignore ? q : dq?.allow || dq?.ignore ? dq : undefined;
  const mode = names?.allow ? "allow" : B.key.query.mode;
  return {
    query: {
      mode,
      names: compileGlobs(names?.allow ?? names?.ignore ?? B.key.query.names),
      sort: q?.sort ?? dq?.sort ?? B.key.query.sort,
    },
    headers: Object.freeze((route.key?.headers ?? d.key?.headers ?? B.key.headers).map((h) => h.toLowerCase())),
    cookies: Object.freeze([...(route.key?.cookies ?? d.key?.cookies ?? B.key.cookies)]),
    device: route.key?.device ?? d.key?.device ?? B.key.device,
    country: compileCountry(route.key?.country ?? d.key?.country),
    language: compileLanguage(route.key?.language ?? d.key?.language),
  };
}

function compileCountry(setting: boolean | CountryGroups | undefined): CompiledKey["country"] {
  if (setting === undefined || setting === false) return null;
  if (setting === true) return { groups: null, other: null };
  const groups = new Map<string, string>();
  for (const [name, codes] of Object.entries(setting.groups ?? {})) for (const code of codes) groups.set(code.toUpperCase(), name);
  return { groups, other: setting.other ?? null };
}

function compileLanguage(setting: string[] | undefined): readonly string[] | null {
  return setting === undefined ? null : Object.freeze([...setting]);
}

/** `chosen` is the route's bypass, else the defaults'; a route's conditions object merges over the defaults' object. */
function compileBypass(chosen: boolean | BypassConditions | undefined, fromDefaults: boolean | BypassConditions | undefined): CompiledBypass {
  const always = chosen === true;
  const own = typeof chosen === "object" ? chosen : {};
  const base = typeof chosen === "object" && typeof fromDefaults === "object" ? fromDefaults : {};
  const pick = (field: keyof BypassConditions): readonly string[] => own[field] ?? base[field] ?? B.bypass[field];
  return {
    always,
    cookies: compileGlobs(pick("cookies")),
    headers: Object.freeze(pick("headers").map((h) => h.toLowerCase())),
    query: compileGlobs(pick("query")),
    methods: Object.freeze(pick("methods").map((m) => m.toUpperCase())),
  };
}
