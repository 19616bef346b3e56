/**
 * The shapes of the rules file: what site owners write (`RulesFile`, every field
 * optional but `version` and `routes`) and what the code uses (`CompiledRules`,
 * every field filled from the defaults, patterns compiled). Parsing turns the first
 * into the second once per isolate; nothing downstream ever looks at the raw file.
 */
import type { HealthCount, HealthSetting } from "../policy/origin-health";
import type { ComponentTest } from "./pattern-test";

export const RULES_VERSION = 1;

/** How the origin's caching headers meet the rule's TTLs (docs/reference/rules.md, "origin"). */
export type OriginMode = "respect" | "override" | "fallback";

/** Client `Cache-Control: no-cache` / `max-age=0` / `Pragma`: a cache-busting lever, ignored unless a rule honours it. */
export type ClientCacheControl = "ignore" | "honor";

export interface TtlSettings {
  /** Seconds in the Cache API tier; 0 = not stored there. Absent in `respect` mode = the origin's headers alone decide. */
  edge?: number;
  /** Seconds in KV; 0 = not stored there; KV needs at least 60. */
  kv?: number;
  /** Seconds of client-facing `Cache-Control: max-age`; absent = origin's header passes on. */
  browser?: number;
}

export interface SizeSettings {
  /** Largest body, in bytes, the edge tier (Cache API) keeps; absent = the platform's own limit. */
  edge?: number;
}

export interface BypassConditions {
  /** Cookie-name globs (`session*`): any present cookie matching bypasses. */
  cookies?: string[];
  /** Request header names: any present bypasses. */
  headers?: string[];
  /** Query-parameter-name globs: any present bypasses. */
  query?: string[];
  /** Methods that bypass (besides the ones we never cache). */
  methods?: string[];
}

export interface KeySettings {
  query?: {
    /** Parameter-name globs dropped from the key (and from the origin request). */
    ignore?: string[];
    /** Parameter-name globs kept; all others dropped. Exclusive with `ignore`. */
    allow?: string[];
    /** Sort the kept parameters so order does not matter. */
    sort?: boolean;
  };
  /** Request header names whose values become part of the key. */
  headers?: string[];
  /** Cookie names whose values become part of the key. */
  cookies?: string[];
  /** Split by device class from User-Agent; the origin receives `CF-Device-Type`. */
  device?: boolean;
  /** Split by `request.cf.country`, optionally grouped; the origin receives `CF-IPCountry`. */
  country?: boolean | CountryGroups;
  /** Language tags offered (the first is the default); the origin receives `Accept-Language: <match>`. */
  language?: string[];
}

export interface CountryGroups {
  /** Group name -> ISO 3166 country codes (`"eu": ["DE", "FR"]`). */
  groups?: Record<string, string[]>;
  /** The value for a country in no group; absent = its own code. */
  other?: string;
}

/** What `defaults` and each route may set. */
export interface RouteSettings {
  ttl?: TtlSettings;
  /** Freshness lifetime per status code or class (`"404": 60`, `"5xx": 0`), seconds. */
  status?: Record<string, number>;
  origin?: OriginMode;
  staleWhileRevalidate?: number;
  staleIfError?: number;
  /** Heuristic freshness from Last-Modified (RFC 9111 §4.2.2); default on in `respect`. */
  heuristic?: boolean;
  clientCacheControl?: ClientCacheControl;
  /** Store responses that carry Set-Cookie after removing it (opt-in, risky). */
  stripSetCookie?: boolean;
  /**
   * Do not bypass requests with Authorization: look them up, and store an answer to one
   * only when the origin marks it shared (public, s-maxage or must-revalidate; RFC 9111
   * §3.5). Opt-in, risky.
   */
  cacheAuthorized?: boolean;
  /**
   * Store a POST answer for later GETs of its URL when it has explicit freshness and
   * a Content-Location equal to the request URI (RFC 9110 §9.3.3, RFC 9111 §4). Opt-in.
   */
  storePostAnswers?: boolean;
  /** Seconds to wait for the origin's response headers. */
  originTimeout?: number;
  /** Most variants (Vary) kept per URL; past it, pass through. */
  maxVariants?: number;
  /** Largest answer each tier keeps, in bytes; larger ones are served but not stored there. */
  maxObjectSize?: SizeSettings;
  key?: KeySettings;
  bypass?: boolean | BypassConditions;
  tags?: string[];
  /** Adds Server-Timing to responses. */
  debug?: boolean;
  /** Which requests write their log line: every one, failures only, or failures and this share (0..1) of the rest. */
  log?: LogSetting;
  /** Misses go through the origin shield: one origin fetch per key for the whole site. */
  shield?: boolean;
  /** When an isolate treats the origin as down (docs/origin-health.md); false = never. */
  originHealth?: false | OriginHealthSettings;
  /** A response header naming the origin's build: a new value makes older builds' entries stale; false = none. */
  buildHeader?: string | false;
  kv?: KvSettings;
}

export interface OriginHealthSettings {
  /** Failures of the origin (it could not be reached) that make it down, each newer than its latest answer. */
  failures?: number;
  /** Seconds the origin stays down before one probe; doubles (to 300) while it stays down. */
  coolOff?: number;
  /** What else counts as a failure on this route: "timeout" (no headers within originTimeout), "5xx" (an error answer). */
  count?: HealthCount[];
}

export interface KvSettings {
  /** Requests (within the answer's lifetime, per isolate) before the answer is written to KV; 1 = the first. */
  minHits?: number;
}

export type LogSetting = "all" | "errors" | number;

export interface RouteMatch {
  /** URLPattern pathname syntax: `/blog/:slug`, `/assets/*`. Default `/*`. */
  path?: string;
  /** URLPattern hostname syntax: `example.com`, `*.example.com`. Default any. */
  host?: string;
  /** Methods this route matches. Default any. */
  methods?: string[];
}

export interface RouteRule extends RouteSettings {
  name: string;
  match: RouteMatch;
  /** Absolute http(s) URL asked instead of the origin while the origin is down. */
  fallbackOrigin?: string;
}

export interface RulesFile {
  $schema?: string;
  version: 1;
  /** Absolute http(s) URL; absent = fetch the request's own URL (DNS route). */
  origin?: string;
  defaults?: RouteSettings;
  routes: RouteRule[];
}

// ---- compiled, fully defaulted ----

/** A compiled glob list: `test(name)` is true when any glob matches. Empty list matches nothing. */
export interface NameMatcher {
  readonly globs: readonly string[];
  test(name: string): boolean;
}

export interface CompiledBypass {
  always: boolean;
  cookies: NameMatcher;
  /** Lower-cased header names. */
  headers: readonly string[];
  query: NameMatcher;
  /** Upper-cased methods. */
  methods: readonly string[];
}

export interface CompiledKey {
  query: { mode: "ignore" | "allow"; names: NameMatcher; sort: boolean };
  /** Lower-cased header names, in the order written. */
  headers: readonly string[];
  cookies: readonly string[];
  device: boolean;
  /** null = not keyed; `groups` null = each country is its own value. */
  country: { groups: ReadonlyMap<string, string> | null; other: string | null } | null;
  /** null = not keyed; else the offered tags, the first the default. */
  language: readonly string[] | null;
}

export interface CompiledRoute {
  name: string;
  /** Position in `routes`, for messages. */
  index: number;
  match: {
    path: string;
    host: string | null;
    /** Upper-cased; null = any. */
    methods: readonly string[] | null;
    /** The path pattern, compiled once per rules version (rules/pattern-test.ts): tests `url.pathname`. */
    testPath: ComponentTest;
    /** The host pattern likewise (null = any host), tested apart so a miss can say which failed. */
    testHost: ComponentTest | null;
  };
  /**
   * `edge` null = no rule TTL: the origin's headers alone decide (respect mode without
   * an explicit edge TTL; given one, respect mode uses it only as a cap).
   */
  ttl: { edge: number | null; kv: number; browser: number | null };
  /** Which tiers look up and store this route's answers: worked out once, from `ttl`. */
  tiers: RouteTiers;
  /** Keys are "404" or "4xx". */
  status: Readonly<Record<string, number>>;
  origin: OriginMode;
  staleWhileRevalidate: number;
  staleIfError: number;
  heuristic: boolean;
  clientCacheControl: ClientCacheControl;
  stripSetCookie: boolean;
  cacheAuthorized: boolean;
  storePostAnswers: boolean;
  /** Milliseconds. */
  originTimeoutMs: number;
  maxVariants: number;
  /** Bytes; null = no limit of ours (the Cache API's own applies). */
  maxObjectSize: { edge: number | null };
  key: CompiledKey;
  bypass: CompiledBypass;
  tags: readonly string[];
  debug: boolean;
  log: LogSetting;
  shield: boolean;
  /** null = off; `count` only when the route counts more than connection failures. */
  originHealth: HealthSetting | null;
  /** Normalized like `origin`; null = none. */
  fallbackOrigin: string | null;
  /** Lower-cased header name; null = none. */
  buildHeader: string | null;
  kv: { minHits: number };
}

export interface RouteTiers {
  /** The Cache API tier: any edge TTL but 0 (null = the origin's headers decide how long). */
  edge: boolean;
  /** KV: a KV TTL above 0. */
  kv: boolean;
}

export interface CompiledRules {
  version: 1;
  /** Normalized absolute URL without trailing slash, or null (DNS route). */
  origin: string | null;
  routes: readonly CompiledRoute[];
  /** The validated file as written, for GET /rules and diffs. */
  source: RulesFile;
}

/** One validation finding, located by a JSONPath-like string (`$.routes[2].ttl.kv`). */
export interface Problem {
  severity: "error" | "warning";
  path: string;
  message: string;
  hint?: string;
}

/** `parseRules` never throws: invalid input gives `rules: null` and at least one error. */
export interface ParseResult {
  rules: CompiledRules | null;
  problems: Problem[];
}

/** Why a route did or did not match; `matched` is the winner or null (pass through). */
export interface MatchResult {
  route: CompiledRoute | null;
  tried: { name: string; matched: boolean; reason: string }[];
}
