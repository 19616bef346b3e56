/**
 * Storability and freshness (RFC 9111 §3, §4.2, §5.2.2; RFC 5861; RFC 9213) as
 * tables: every row names the clause it checks. Time is a parameter, so nothing
 * here waits: T0 is the moment the response arrived.
 */
import { describe, expect, it } from "vitest";
import {
  correctedInitialAge,
  currentAge,
  freshness,
  type Lifetimes,
  type ResponseFacts,
  retentionSeconds,
  statusTtl,
  storeVerdict,
} from "../../src/policy/freshness";
import { parseRules } from "../../src/rules/parse";
import type { CompiledRoute, RouteSettings } from "../../src/rules/types";

/** A whole second, so HTTP dates (second precision) are exact. */
const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
/** The HTTP date `s` seconds from T0. */
const at = (s: number) => new Date(T0 + s * 1000).toUTCString();
const DATE = at(0);
const DAY = 86_400;

function route(settings: RouteSettings = {}): CompiledRoute {
  const result = parseRules({ version: 1, routes: [{ name: "r", match: { path: "/*" }, ...settings }] });
  const compiled = result.rules?.routes[0];
  if (!compiled) throw new Error(`test route invalid: ${JSON.stringify(result.problems)}`);
  return compiled;
}

function facts(headers: Record<string, string>, more: Partial<ResponseFacts> = {}): ResponseFacts {
  return { status: 200, headers: new Headers(headers), requestTime: T0, responseTime: T0, authorized: false, ...more };
}

/** The verdict reduced to what a row states: stored with which lifetime and source, or why not. */
function verdict(r: CompiledRoute, f: ResponseFacts) {
  const v = storeVerdict(r, f);
  return v.store ? { store: true, lifetime: v.lifetimes.lifetime, source: v.source } : { store: false, reason: v.reason };
}
const stored = (lifetime: number, source: string) => ({ store: true, lifetime, source });
const refused = (reason: string) => ({ store: false, reason });

// Routes used by the tables. `respect` has no rule TTL: the origin's headers alone decide.
const RESPECT = route({ origin: "respect" });
const RESPECT_CAP_600 = route({ origin: "respect", ttl: { edge: 600 } });
const OVERRIDE_600 = route({ origin: "override", ttl: { edge: 600 } });
const FALLBACK_600 = route({ origin: "fallback", ttl: { edge: 600 } });

describe("storeVerdict: explicit freshness lifetime (§4.2.1)", () => {
  it.each<[string, Record<string, string>, object]>([
    ["§4.2.1 s-maxage wins over max-age in a shared cache", { date: DATE, "cache-control": "max-age=10, s-maxage=100" }, stored(100, "s-maxage")],
    ["§4.2.1 s-maxage wins even when smaller", { date: DATE, "cache-control": "s-maxage=5, max-age=100" }, stored(5, "s-maxage")],
    ["§4.2.1 max-age wins over Expires", { date: DATE, "cache-control": "max-age=10", expires: at(1000) }, stored(10, "max-age")],
    ["§4.2.1 s-maxage wins over Expires", { date: DATE, "cache-control": "s-maxage=20", expires: at(1000) }, stored(20, "s-maxage")],
    ["§4.2.1 Expires minus Date", { date: DATE, expires: at(600) }, stored(600, "expires")],
    ["§4.2.1 Expires minus Date, not minus the receipt time", { date: at(-100), expires: at(500) }, stored(600, "expires")],
    ["§4.2.1 Expires without Date: minus the receipt time (§6.6.1 of RFC 9110: the recipient's clock)", { expires: at(300) }, stored(300, "expires")],
    ["§5.3 an Expires in the past: already stale (stored with validators)", { date: DATE, expires: at(-60), etag: '"v"' }, stored(0, "expires")],
    ["§5.3 an invalid Expires (\"0\") means already expired", { date: DATE, expires: "0", etag: '"v"' }, stored(0, "expires")],
    ["§5.3 an invalid Expires without validators: nothing to store", { date: DATE, expires: "0" }, refused("ttl-zero")],
    ["§4.2.1 max-age=0 with a validator: stored, revalidated on every use", { "cache-control": "max-age=0", "last-modified": at(-DAY) }, stored(0, "max-age")],
    ["§4.2.1 max-age=0 without a validator: nothing to store", { "cache-control": "max-age=0" }, refused("ttl-zero")],
    ["§1.2.2 a huge max-age is 2^31", { "cache-control": "max-age=99999999999999" }, stored(2 ** 31, "max-age")],
    ["§4.2.2 explicit freshness forbids heuristics, even from an old Last-Modified", { date: DATE, "cache-control": "max-age=5", "last-modified": at(-365 * DAY) }, stored(5, "max-age")],
  ])("%s", (_name, headers, expected) => {
    expect(verdict(RESPECT, facts(headers))).toEqual(expected);
  });
});

describe("storeVerdict: heuristic freshness (§4.2.2)", () => {
  it.each<[string, number, Record<string, string>, object]>([
    ["§4.2.2 10% of Date minus Last-Modified", 200, { date: DATE, "last-modified": at(-1000) }, stored(100, "heuristic")],
    ["§4.2.2 10%, rounded down to whole seconds", 200, { date: DATE, "last-modified": at(-15) }, stored(1, "heuristic")],
    ["§4.2.2 capped at one day", 200, { date: DATE, "last-modified": at(-30 * DAY) }, stored(DAY, "heuristic")],
    ["§4.2.2 exactly at the cap", 200, { date: DATE, "last-modified": at(-10 * DAY) }, stored(DAY, "heuristic")],
    ["§4.2.2 without Date, from the receipt time", 200, { "last-modified": at(-2000) }, stored(200, "heuristic")],
    ["§4.2.2 a Last-Modified after Date gives no freshness (revalidate each use)", 200, { date: DATE, "last-modified": at(60) }, stored(0, "heuristic")],
    ["§4.2.2 404 is heuristically cacheable (RFC 9110 §15.1)", 404, { date: DATE, "last-modified": at(-1000) }, stored(100, "heuristic")],
    ["§4.2.2 301 is heuristically cacheable", 301, { date: DATE, "last-modified": at(-1000) }, stored(100, "heuristic")],
    ["§4.2.2 410 is heuristically cacheable", 410, { date: DATE, "last-modified": at(-1000) }, stored(100, "heuristic")],
    ["§4.2.2 302 is not heuristically cacheable", 302, { date: DATE, "last-modified": at(-1000) }, refused("status")],
    ["§4.2.2 500 is not heuristically cacheable", 500, { date: DATE, "last-modified": at(-1000) }, refused("status")],
    ["§3 206 is never stored (we keep whole representations only)", 206, { date: DATE, "last-modified": at(-1000) }, refused("status")],
    ["§4.2.2 no Last-Modified and no validator: no freshness at all", 200, { date: DATE }, refused("no-freshness")],
    ["§4.2.2 an unparseable Last-Modified gives no heuristic; still a validator", 200, { date: DATE, "last-modified": "yesterday" }, stored(0, "validators")],
    ["§4.3.1 only an ETag: stored, revalidated on every use", 200, { date: DATE, etag: '"v1"' }, stored(0, "validators")],
  ])("%s", (_name, status, headers, expected) => {
    expect(verdict(RESPECT, facts(headers, { status }))).toEqual(expected);
  });

  it("§4.2.2 heuristics can be switched off: the Last-Modified is then only a validator", () => {
    const r = route({ origin: "respect", heuristic: false });
    expect(verdict(r, facts({ date: DATE, "last-modified": at(-1000) }))).toEqual(stored(0, "validators"));
  });

  it("§4.2.2 heuristics are off by default outside respect mode: the rule TTL applies", () => {
    expect(verdict(FALLBACK_600, facts({ date: DATE, "last-modified": at(-1000) }))).toEqual(stored(600, "rule"));
  });
});

describe("storeVerdict: directives that forbid or limit storing (§5.2.2, §3.5)", () => {
  it.each<[string, CompiledRoute, Record<string, string>, Partial<ResponseFacts>, object]>([
    ["§5.2.2.5 no-store", RESPECT, { "cache-control": "no-store, max-age=60" }, {}, refused("no-store")],
    ["§5.2.2.5 no-store wins over an override rule", OVERRIDE_600, { "cache-control": "no-store" }, {}, refused("no-store")],
    ["§5.2.2.7 private", RESPECT, { "cache-control": "private, max-age=60" }, {}, refused("private")],
    ["§5.2.2.7 qualified private is read as unqualified", RESPECT, { "cache-control": 'private="set-cookie", max-age=60' }, {}, refused("private")],
    ["§5.2.2.7 private wins over an override rule", OVERRIDE_600, { "cache-control": "private" }, {}, refused("private")],
    ["§5.2.2.7 private after an empty list element (RFC 9110 §5.6.1.2)", RESPECT, { "cache-control": "max-age=60, , private" }, {}, refused("private")],
    ["§5.2.2.5 no-store after an empty list element (RFC 9110 §5.6.1.2)", OVERRIDE_600, { "cache-control": ", no-store" }, {}, refused("no-store")],
    ["§5.2.2.4 no-cache: stored with validators, lifetime 0", RESPECT, { "cache-control": "no-cache, max-age=600", etag: '"v"' }, {}, stored(0, "max-age")],
    ["§5.2.2.4 no-cache without validators: nothing to store", RESPECT, { "cache-control": "no-cache, max-age=600" }, {}, refused("ttl-zero")],
    ["§5.2.2.4 qualified no-cache is read as unqualified", RESPECT, { "cache-control": 'no-cache="set-cookie", max-age=600', etag: '"v"' }, {}, stored(0, "max-age")],
    ["§4.1 Vary: * never matches", RESPECT, { "cache-control": "max-age=60", vary: "*" }, {}, refused("vary-star")],
    ["§4.1 Vary: * in a list never matches", RESPECT, { "cache-control": "max-age=60", vary: "Accept-Encoding, *" }, {}, refused("vary-star")],
    ["§4.1 an ordinary Vary is storable", RESPECT, { "cache-control": "max-age=60", vary: "Accept-Encoding" }, {}, stored(60, "max-age")],
    ["Set-Cookie is never shared", RESPECT, { "cache-control": "max-age=60", "set-cookie": "sid=1" }, {}, refused("set-cookie")],
    ["Set-Cookie even when public", OVERRIDE_600, { "cache-control": "public, max-age=60", "set-cookie": "sid=1" }, {}, refused("set-cookie")],
    ["§3.5 Authorization: not stored by default", RESPECT, { "cache-control": "max-age=60" }, { authorized: true }, refused("authorization")],
    ["§3.5 Authorization: stored when public", RESPECT, { "cache-control": "public, max-age=60" }, { authorized: true }, stored(60, "max-age")],
    ["§3.5 Authorization: stored with s-maxage", RESPECT, { "cache-control": "s-maxage=60" }, { authorized: true }, stored(60, "s-maxage")],
    ["§3.5 Authorization: stored with must-revalidate", RESPECT, { "cache-control": "must-revalidate, max-age=60" }, { authorized: true }, stored(60, "max-age")],
    ["§3.5 Authorization: proxy-revalidate is not one of the three", RESPECT, { "cache-control": "proxy-revalidate, max-age=60" }, { authorized: true }, refused("authorization")],
    ["§3.5 Authorization: no-store still wins over public", RESPECT, { "cache-control": "public, no-store" }, { authorized: true }, refused("no-store")],
  ])("%s", (_name, r, headers, more, expected) => {
    expect(verdict(r, facts(headers, more))).toEqual(expected);
  });

  it("§3.5 a route without the Authorization bypass still stores only what the origin marks shared", () => {
    const r = route({ origin: "respect", cacheAuthorized: true });
    expect(verdict(r, facts({ "cache-control": "max-age=60" }, { authorized: true }))).toEqual(refused("authorization"));
    expect(verdict(r, facts({ "cache-control": "public, max-age=60" }, { authorized: true }))).toEqual(stored(60, "max-age"));
    expect(verdict(OVERRIDE_600, facts({}, { authorized: true }))).toEqual(refused("authorization"));
  });

  it("Set-Cookie: a route may opt in to storing the answer without it", () => {
    const r = route({ origin: "respect", stripSetCookie: true });
    const v = storeVerdict(r, facts({ "cache-control": "max-age=60", "set-cookie": "sid=1" }));
    expect(v).toMatchObject({ store: true, stripSetCookie: true });
    const plain = storeVerdict(r, facts({ "cache-control": "max-age=60" }));
    expect(plain).toMatchObject({ store: true, stripSetCookie: false });
  });

  describe("stale windows (RFC 5861) and revalidation directives", () => {
    const windows = route({ origin: "respect", staleWhileRevalidate: 30, staleIfError: 300 });
    const lifetimes = (headers: Record<string, string>) => {
      const v = storeVerdict(windows, facts({ date: DATE, ...headers }));
      if (!v.store) throw new Error(`not stored: ${v.reason}`);
      return v.lifetimes;
    };

    it.each<[string, Record<string, string>, Partial<Lifetimes>]>([
      ["the route's windows apply by default", { "cache-control": "max-age=60" }, { staleWhileRevalidate: 30, staleIfError: 300, mustRevalidate: false }],
      ["RFC 5861 §3 stale-while-revalidate from the response wins", { "cache-control": "max-age=60, stale-while-revalidate=5" }, { staleWhileRevalidate: 5, staleIfError: 300 }],
      ["RFC 5861 §4 stale-if-error from the response wins", { "cache-control": "max-age=60, stale-if-error=7" }, { staleWhileRevalidate: 30, staleIfError: 7 }],
      ["RFC 5861 a malformed window falls back to the route's", { "cache-control": "max-age=60, stale-if-error=soon" }, { staleIfError: 300 }],
      ["§5.2.2.2 must-revalidate: never served stale", { "cache-control": "max-age=60, must-revalidate, stale-while-revalidate=5" }, { staleWhileRevalidate: 0, staleIfError: 0, mustRevalidate: true }],
      ["§5.2.2.8 proxy-revalidate: never served stale by a shared cache", { "cache-control": "max-age=60, proxy-revalidate" }, { staleWhileRevalidate: 0, staleIfError: 0, mustRevalidate: true }],
      ["§5.2.2.10 s-maxage implies proxy-revalidate", { "cache-control": "s-maxage=60, stale-if-error=600" }, { staleWhileRevalidate: 0, staleIfError: 0, mustRevalidate: true }],
    ])("%s", (_name, headers, expected) => {
      expect(lifetimes(headers)).toMatchObject(expected);
    });
  });
});

describe("storeVerdict: origin modes and rule TTLs", () => {
  it.each<[string, CompiledRoute, Record<string, string>, object]>([
    ["respect: a rule TTL caps a longer origin lifetime", RESPECT_CAP_600, { "cache-control": "max-age=6000" }, stored(600, "max-age")],
    ["respect: a rule TTL never lengthens a shorter one", RESPECT_CAP_600, { "cache-control": "max-age=60" }, stored(60, "max-age")],
    ["respect: a rule TTL caps a heuristic too", route({ origin: "respect", ttl: { edge: 10 } }), { date: DATE, "last-modified": at(-1000) }, stored(10, "heuristic")],
    ["respect: a rule TTL is not a lifetime of its own", RESPECT_CAP_600, {}, refused("no-freshness")],
    ["override: the rule wins over a shorter origin max-age", OVERRIDE_600, { "cache-control": "max-age=60" }, stored(600, "rule")],
    ["override: the rule wins over a longer origin max-age", OVERRIDE_600, { "cache-control": "max-age=6000" }, stored(600, "rule")],
    ["override: the rule wins over max-age=0", OVERRIDE_600, { "cache-control": "max-age=0" }, stored(600, "rule")],
    ["override: the rule gives a lifetime when the origin says nothing", OVERRIDE_600, {}, stored(600, "rule")],
    ["fallback: the origin's lifetime when it states one", FALLBACK_600, { "cache-control": "max-age=60" }, stored(60, "max-age")],
    ["fallback: the origin's Expires when it states one", FALLBACK_600, { date: DATE, expires: at(30) }, stored(30, "expires")],
    ["fallback: the rule when the origin says nothing", FALLBACK_600, {}, stored(600, "rule")],
    ["fallback: the built-in edge TTL (3600) when the rule says nothing", route(), {}, stored(3600, "rule")],
  ])("%s", (_name, r, headers, expected) => {
    expect(verdict(r, facts(headers))).toEqual(expected);
  });

  it("override with a zero edge TTL stores nothing", () => {
    const r = route({ origin: "override", ttl: { edge: 0 } });
    expect(verdict(r, facts({ "cache-control": "max-age=60", etag: '"v"' }))).toEqual(refused("ttl-zero"));
  });

  it("§4.2.3 under a rule TTL the clock starts at storing; under the origin's lifetime, upstream age counts", () => {
    const aged = { "cache-control": "max-age=600", age: "100" };
    const ruled = storeVerdict(OVERRIDE_600, facts(aged));
    const origin = storeVerdict(FALLBACK_600, facts(aged));
    expect(ruled.store && ruled.lifetimes.initialAge).toBe(0);
    expect(origin.store && origin.lifetimes.initialAge).toBe(100);
  });
});

describe("storeVerdict: per-status TTLs", () => {
  const perStatus = (mode: "respect" | "override" | "fallback", status: Record<string, number>) =>
    route({ origin: mode, ttl: { edge: 600 }, status });

  it.each<[string, CompiledRoute, number, Record<string, string>, object]>([
    ["an exact status rule", perStatus("fallback", { "404": 30 }), 404, {}, stored(30, "status-rule")],
    ["a class rule (4xx)", perStatus("fallback", { "4xx": 45 }), 410, {}, stored(45, "status-rule")],
    ["the exact rule wins over the class rule", perStatus("fallback", { "404": 30, "4xx": 45 }), 404, {}, stored(30, "status-rule")],
    ["a class rule lets a status we would not store by ourselves be stored", perStatus("fallback", { "4xx": 20 }), 418, {}, stored(20, "status-rule")],
    ["a status rule of 0 means never, whatever the origin says", perStatus("fallback", { "5xx": 0 }), 503, { "cache-control": "max-age=60" }, refused("ttl-zero")],
    ["0 = never, even a heuristically cacheable status", perStatus("respect", { "404": 0 }), 404, { "cache-control": "max-age=60" }, refused("ttl-zero")],
    ["0 = never, in override mode", perStatus("override", { "404": 0 }), 404, {}, refused("ttl-zero")],
    ["fallback: an explicit origin lifetime wins over the status rule", perStatus("fallback", { "404": 30 }), 404, { "cache-control": "max-age=90" }, stored(90, "max-age")],
    ["override: the status rule wins over the origin", perStatus("override", { "404": 30 }), 404, { "cache-control": "max-age=90" }, stored(30, "status-rule")],
    ["respect: the status rule caps the origin", perStatus("respect", { "404": 30 }), 404, { "cache-control": "max-age=90" }, stored(30, "max-age")],
    ["§3 without a rule, an understood status is stored with explicit freshness", perStatus("fallback", {}), 500, { "cache-control": "max-age=10" }, stored(10, "max-age")],
    ["§3 without a rule, 500 without explicit freshness is not stored", perStatus("fallback", {}), 500, {}, refused("status")],
    ["§3 any final status with explicit freshness may be stored, even one we do not know", perStatus("fallback", {}), 418, { "cache-control": "max-age=10" }, stored(10, "max-age")],
    ["§3 206 is not stored, even with max-age", perStatus("fallback", {}), 206, { "cache-control": "max-age=10" }, refused("status")],
    ["a rule for another class does not apply", perStatus("fallback", { "5xx": 0 }), 404, {}, stored(600, "rule")],
  ])("%s", (_name, r, status, headers, expected) => {
    expect(verdict(r, facts(headers, { status }))).toEqual(expected);
  });

  it("statusTtl looks up the exact status, then its class, then nothing", () => {
    const r = route({ status: { "404": 30, "4xx": 45, "503": 0 } });
    expect([404, 410, 503, 500, 200].map((s) => statusTtl(r, s))).toEqual([30, 45, 0, null, null]);
  });
});

describe("storeVerdict: targeted fields (RFC 9213 §2.1)", () => {
  const all = {
    "cloudflare-cdn-cache-control": "max-age=10",
    "cdn-cache-control": "max-age=20",
    "cache-control": "max-age=30",
  };
  it.each<[string, Record<string, string>, object]>([
    ["§2.1 Cloudflare-CDN-Cache-Control wins over both", all, stored(10, "max-age")],
    ["§2.1 CDN-Cache-Control wins over Cache-Control", { "cdn-cache-control": "max-age=20", "cache-control": "max-age=30" }, stored(20, "max-age")],
    ["§2.1 an empty Cloudflare-CDN-Cache-Control is ignored", { ...all, "cloudflare-cdn-cache-control": "" }, stored(20, "max-age")],
    ["§2.1 empty targeted fields fall back to Cache-Control", { ...all, "cloudflare-cdn-cache-control": "", "cdn-cache-control": "" }, stored(30, "max-age")],
    ["§2.1 Cache-Control's no-store is ignored when a targeted field governs", { "cdn-cache-control": "max-age=60", "cache-control": "no-store" }, stored(60, "max-age")],
    ["§2.1 Cache-Control's s-maxage is ignored when a targeted field governs", { "cdn-cache-control": "max-age=60", "cache-control": "s-maxage=5" }, stored(60, "max-age")],
    ["§2.1 the targeted field's no-store governs", { "cdn-cache-control": "no-store", "cache-control": "max-age=60" }, refused("no-store")],
    ["§2.1 the targeted field's private governs", { "cloudflare-cdn-cache-control": "private", "cache-control": "public, max-age=60" }, refused("private")],
    // RFC 9213 §2.1: the cache "MUST ignore the Cache-Control and Expires header fields in that response".
    ["§2.1 Expires is ignored when a targeted field governs", { "cdn-cache-control": "public", date: DATE, expires: at(600) }, refused("no-freshness")],
  ])("%s", (_name, headers, expected) => {
    expect(verdict(RESPECT, facts(headers))).toEqual(expected);
  });
});

describe("correctedInitialAge (§4.2.3)", () => {
  // request sent at T0 - delay, response headers at T0.
  it.each<[string, Record<string, string>, number, number]>([
    ["no Date, no Age, no delay: 0", {}, 0, 0],
    ["apparent age: response_time - date_value", { date: at(-30) }, 0, 30],
    ["apparent age is never negative (Date in the future)", { date: at(120) }, 0, 0],
    ["corrected age value: Age + response_delay", { age: "10" }, 2000, 12],
    ["the larger of apparent age and corrected age value (Age wins)", { date: at(-3), age: "10" }, 2000, 12],
    ["the larger of apparent age and corrected age value (Date wins)", { date: at(-50), age: "10" }, 2000, 50],
    ["whole seconds, rounded down", { age: "7" }, 500, 7],
    ["a response delay alone counts", { date: DATE }, 4000, 4],
    ["§5.1 an invalid Age is ignored", { age: "soon" }, 0, 0],
    ["§5.1 a negative Age is ignored", { age: "-5" }, 0, 0],
    // §1.2.2: a delta-seconds value too large, or a calculation that overflows, is taken as 2^31.
    ["§1.2.2 a huge Age is taken as 2^31", { age: "99999999999999999999" }, 0, 2 ** 31],
  ])("%s", (_name, headers, delayMs, expected) => {
    expect(correctedInitialAge(facts(headers, { requestTime: T0 - delayMs }))).toBe(expected);
  });

  it("§4.2.3 current_age = corrected_initial_age + resident_time", () => {
    const initialAge = correctedInitialAge(facts({ date: at(-3), age: "10" }, { requestTime: T0 - 2000 }));
    expect(initialAge).toBe(12);
    expect(currentAge({ initialAge }, T0, T0)).toBe(12);
    expect(currentAge({ initialAge }, T0, T0 + 30_500)).toBe(42);
    // A clock that went backwards never gives a negative age.
    expect(currentAge({ initialAge: 0 }, T0, T0 - 5_000)).toBe(0);
  });
});

describe("freshness: the state of a stored entry over time (§4.2, RFC 5861)", () => {
  const entry = (l: Partial<Lifetimes> = {}): Lifetimes => ({
    lifetime: 60,
    initialAge: 0,
    staleWhileRevalidate: 30,
    staleIfError: 300,
    mustRevalidate: false,
    ...l,
  });
  const stateAt = (l: Lifetimes, seconds: number) => freshness(l, T0, T0 + seconds * 1000);

  it.each<[string, Partial<Lifetimes>, number, { state: string; age: number; ttl: number }]>([
    ["§4.2 fresh when just stored", {}, 0, { state: "fresh", age: 0, ttl: 60 }],
    ["§4.2 fresh one second before the lifetime ends", {}, 59.999, { state: "fresh", age: 59, ttl: 1 }],
    ["§4.2 stale once age equals the lifetime: SWR window opens", {}, 60, { state: "stale-while-revalidate", age: 60, ttl: 0 }],
    ["RFC 5861 §3 last second of the SWR window", {}, 89.999, { state: "stale-while-revalidate", age: 89, ttl: -29 }],
    ["RFC 5861 §4 SWR window over: SIE window", {}, 90, { state: "stale-if-error", age: 90, ttl: -30 }],
    ["RFC 5861 §4 last second of the SIE window", {}, 359, { state: "stale-if-error", age: 359, ttl: -299 }],
    ["RFC 5861 §4 both windows over: stale", {}, 360, { state: "stale", age: 360, ttl: -300 }],
    ["§4.2.3 the initial age counts: 40 s resident + 20 s upstream = 60", { initialAge: 20 }, 40, { state: "stale-while-revalidate", age: 60, ttl: 0 }],
    ["§4.2.3 arrived already stale, past its SWR window", { initialAge: 100 }, 0, { state: "stale-if-error", age: 100, ttl: -40 }],
    ["§4.2 lifetime 0: stale at once (revalidate every use)", { lifetime: 0, staleWhileRevalidate: 0, staleIfError: 0 }, 0, { state: "stale", age: 0, ttl: 0 }],
    ["§4.2.4 must-revalidate entries have no windows: stale at the edge", { staleWhileRevalidate: 0, staleIfError: 0, mustRevalidate: true }, 60, { state: "stale", age: 60, ttl: 0 }],
    ["RFC 5861 an SIE window shorter than SWR adds nothing", { staleWhileRevalidate: 30, staleIfError: 10 }, 75, { state: "stale-while-revalidate", age: 75, ttl: -15 }],
    ["RFC 5861 an SIE window shorter than SWR: stale after SWR", { staleWhileRevalidate: 30, staleIfError: 10 }, 90, { state: "stale", age: 90, ttl: -30 }],
    ["RFC 5861 SIE alone", { staleWhileRevalidate: 0 }, 60, { state: "stale-if-error", age: 60, ttl: 0 }],
  ])("%s", (_name, l, seconds, expected) => {
    expect(stateAt(entry(l), seconds)).toEqual(expected);
  });
});

describe("retentionSeconds", () => {
  const l = (lifetime: number, initialAge: number, swr: number, sie: number): Lifetimes => ({
    lifetime,
    initialAge,
    staleWhileRevalidate: swr,
    staleIfError: sie,
    mustRevalidate: false,
  });

  it.each<[string, Lifetimes, number]>([
    ["the remaining life plus the longer window plus a minute for revalidation", l(100, 30, 10, 50), 70 + 50 + 60],
    ["the longer window is SWR when it is longer", l(100, 0, 500, 50), 100 + 500 + 60],
    ["no windows: the remaining life plus a minute", l(3600, 0, 0, 0), 3600 + 60],
    ["lifetime 0: at least one second plus a minute, to revalidate", l(0, 0, 0, 0), 1 + 60],
    ["arrived older than its lifetime: never negative", l(60, 500, 0, 0), 1 + 60],
    ["arrived older than its lifetime but inside its SIE window", l(60, 100, 0, 300), 260 + 60],
  ])("%s", (_name, lifetimes, expected) => {
    expect(retentionSeconds(lifetimes)).toBe(expected);
  });

  it("keeps a stored entry at least until the end of every window in which it may be served", () => {
    for (const lifetimes of [l(60, 0, 30, 300), l(60, 20, 300, 30), l(0, 0, 0, 86_400), l(10, 5, 0, 0)]) {
      const keep = retentionSeconds(lifetimes);
      // The last moment it can still be served, seconds after storing.
      const lastUse = lifetimes.lifetime - lifetimes.initialAge + Math.max(lifetimes.staleWhileRevalidate, lifetimes.staleIfError);
      expect(freshness(lifetimes, T0, T0 + (lastUse - 1) * 1000).state).not.toBe("stale");
      expect(keep).toBeGreaterThan(lastUse);
    }
  });
});
