/**
 * RFC 9111 (and RFC 5861, RFC 9213) conformance, one row per rule, through the
 * Worker against the scripted origin, with a clock the rows move. Each step is a
 * request (after advancing the clock) and what must be observed: the status, our
 * Cache-Status, the body, and how many requests the origin has seen by then.
 */
import { describe, expect, it } from "vitest";
import type { RouteSettings } from "../../src/rules/types";
import { harness } from "../support/harness";
import { origin, type ScriptedResponse } from "../support/origin";

interface Step {
  advance?: number;
  method?: string;
  headers?: Record<string, string>;
  status?: number;
  cacheStatus?: RegExp | string;
  body?: string;
  originCount?: number;
  header?: [string, string | null];
  /** Response fields and their values (null: absent). */
  fields?: Record<string, string | null>;
}

interface Row {
  name: string;
  settings?: RouteSettings;
  /** A function when the script holds times: called when the test's clock starts. */
  script: ScriptedResponse[] | (() => ScriptedResponse[]);
  steps: Step[];
}

const HIT = /^edge-cache; hit;/;
const MISS_STORED = /^edge-cache; fwd=uri-miss; stored/;
const now = () => new Date().toUTCString();
const respect: RouteSettings = { origin: "respect" };

/** HTTP dates `s` seconds from now, in the three forms of RFC 9110 §5.6.7, and malformed ones that lenient parsers read. */
const imf = (s = 0) => new Date(Date.now() + s * 1000).toUTCString();
const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
function rfc850(s: number): string {
  const d = new Date(Date.now() + s * 1000);
  const [, day, mon, year, time] = imf(s).split(" ");
  return `${DAY_NAMES[d.getUTCDay()]}, ${day}-${mon}-${year!.slice(2)} ${time} GMT`;
}
function asctime(s: number): string {
  const [name, day, mon, year, time] = imf(s).split(" ");
  return `${name!.slice(0, 3)} ${mon} ${day!.replace(/^0/, " ")} ${time} ${year}`;
}
const MALFORMED_DATES: [string, (s: number) => string][] = [
  ["lower-case utc", (s) => imf(s).replace("GMT", "utc")],
  ["a missing comma", (s) => imf(s).replace(",", "")],
  ["doubled spaces", (s) => imf(s).replace(" ", "  ")],
  ["dashes in the date", (s) => imf(s).replace(/ (\w+) (\d{4})/, "-$1-$2")],
  // Moves the time within its day: the rows use dates two days away.
  ["a one-digit hour", (s) => imf(s).replace(/ \d{2}:/, " 5:")],
];

const rows: Row[] = [
  // --- freshness lifetime (§4.2.1) ---
  {
    name: "§4.2.1 s-maxage wins over max-age for a shared cache",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=10, s-maxage=100" } }],
    steps: [{ cacheStatus: /stored; ttl=100/ }, { advance: 50, cacheStatus: HIT, originCount: 1 }],
  },
  {
    name: "§4.2.1 max-age when there is no s-maxage",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=30" } }],
    steps: [{ cacheStatus: /stored; ttl=30/ }, { advance: 29, cacheStatus: HIT }, { advance: 2, cacheStatus: /fwd=stale/, originCount: 2 }],
  },
  {
    name: "§4.2.1 Expires minus Date when there is no max-age",
    settings: respect,
    script: [{ headers: { date: "Mon, 01 Jan 2024 00:00:00 GMT", expires: "Mon, 01 Jan 2024 00:01:00 GMT" } }],
    steps: [{ cacheStatus: /stored; ttl=\d+/ }],
  },
  {
    name: "§5.3 an invalid Expires means already expired (not stored without validators)",
    settings: respect,
    script: [{ headers: { expires: "0" } }],
    steps: [{ cacheStatus: "edge-cache; fwd=uri-miss; detail=ttl-zero" }, { cacheStatus: /fwd=uri-miss/, originCount: 2 }],
  },
  {
    name: "§4.2.2 heuristic freshness from Last-Modified in respect mode",
    settings: respect,
    script: [{ headers: { "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }],
    steps: [{ cacheStatus: MISS_STORED }, { cacheStatus: HIT, originCount: 1 }],
  },
  {
    name: "§4.2.2 heuristic freshness switched off by the rule",
    settings: { origin: "respect", heuristic: false },
    script: [{ headers: { "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }],
    steps: [{ cacheStatus: /stored; ttl=0/ }, { cacheStatus: /fwd=stale/ }],
  },
  {
    name: "§4.2.2 no heuristic for a status that is not heuristically cacheable (302)",
    settings: respect,
    script: [{ status: 302, headers: { location: "/x", "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }],
    steps: [{ status: 302, cacheStatus: "edge-cache; fwd=uri-miss; detail=status" }],
  },
  {
    name: "respect: nothing stored without freshness or validators",
    settings: respect,
    script: [{ body: "x" }],
    steps: [{ cacheStatus: "edge-cache; fwd=uri-miss; detail=no-freshness" }, { originCount: 2 }],
  },
  {
    name: "respect: a rule TTL only caps the origin's lifetime",
    settings: { origin: "respect", ttl: { edge: 20 } },
    script: [{ headers: { "cache-control": "max-age=600" } }],
    steps: [{ cacheStatus: /stored; ttl=20/ }],
  },
  {
    name: "fallback: the origin's max-age when present",
    settings: { origin: "fallback", ttl: { edge: 600 } },
    script: [{ headers: { "cache-control": "max-age=5" } }],
    steps: [{ cacheStatus: /stored; ttl=5/ }],
  },
  {
    name: "fallback: the rule TTL when the origin says nothing",
    settings: { origin: "fallback", ttl: { edge: 600 } },
    script: [{}],
    steps: [{ cacheStatus: /stored; ttl=600/ }],
  },
  {
    name: "override: the rule TTL wins over the origin's max-age",
    settings: { origin: "override", ttl: { edge: 600 } },
    script: [{ headers: { "cache-control": "max-age=5" } }],
    steps: [{ cacheStatus: /stored; ttl=600/ }],
  },
  {
    name: "override: private still forbids storing (§5.2.2.7)",
    settings: { origin: "override", ttl: { edge: 600 } },
    script: [{ headers: { "cache-control": "private" } }],
    steps: [{ cacheStatus: "edge-cache; fwd=uri-miss; detail=private" }],
  },
  {
    name: "per-status TTL: 404 kept for the rule's status TTL",
    settings: { ttl: { edge: 600 }, status: { "404": 60 } },
    script: [{ status: 404, body: "not here" }],
    steps: [{ status: 404, cacheStatus: /stored; ttl=60/ }, { status: 404, cacheStatus: HIT, body: "not here", originCount: 1 }],
  },
  {
    name: "per-status TTL: a status class set to 0 is never stored",
    settings: { ttl: { edge: 600 }, status: { "4xx": 0 } },
    script: [{ status: 404 }],
    steps: [{ status: 404, cacheStatus: "edge-cache; fwd=uri-miss; detail=ttl-zero" }],
  },
  {
    name: "per-status TTL makes a 503 storable only when the rule says so",
    settings: { ttl: { edge: 600 }, status: { "503": 5 } },
    script: [{ status: 503 }],
    steps: [{ status: 503, cacheStatus: /stored; ttl=5/ }, { status: 503, cacheStatus: HIT }],
  },
  // --- targeted fields (RFC 9213) ---
  {
    name: "RFC 9213 CDN-Cache-Control wins over Cache-Control and passes on",
    settings: respect,
    script: [{ headers: { "cache-control": "no-store", "cdn-cache-control": "max-age=120" } }],
    steps: [{ cacheStatus: /stored; ttl=120/, header: ["cdn-cache-control", "max-age=120"] }, { cacheStatus: HIT, header: ["cache-control", "no-store"] }],
  },
  {
    name: "RFC 9213 Cloudflare-CDN-Cache-Control wins over CDN-Cache-Control and is consumed",
    settings: respect,
    script: [{ headers: { "cdn-cache-control": "max-age=120", "cloudflare-cdn-cache-control": "max-age=30" } }],
    steps: [{ cacheStatus: /stored; ttl=30/, header: ["cloudflare-cdn-cache-control", null] }, { cacheStatus: HIT, header: ["cloudflare-cdn-cache-control", null] }],
  },
  ...['max-age="3600"', "max-age=a", "max-age=3600,,", "max-age=1.5"].map((bad): Row => ({
    name: `RFC 9213 §2.1 an invalid CDN-Cache-Control (${bad}) is ignored as a whole: Cache-Control decides`,
    settings: respect,
    script: [{ headers: { "cdn-cache-control": `public, ${bad}`, "cache-control": "max-age=30" } }],
    steps: [{ cacheStatus: /stored; ttl=30/ }, { advance: 31, cacheStatus: /fwd=stale/, originCount: 2 }],
  })),
  {
    name: "RFC 9213 §2.1 an invalid Cloudflare-CDN-Cache-Control falls back to CDN-Cache-Control",
    settings: respect,
    script: [{ headers: { "cloudflare-cdn-cache-control": 'max-age="5"', "cdn-cache-control": "max-age=120", "cache-control": "no-store" } }],
    steps: [{ cacheStatus: /stored; ttl=120/ }, { advance: 60, cacheStatus: HIT, originCount: 1 }],
  },
  {
    name: "RFC 9213 §2.1 a valid targeted field of unknown directives still governs (Cache-Control's no-store ignored)",
    settings: respect,
    script: [{ headers: { "cdn-cache-control": "none", "cache-control": "no-store", "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }],
    steps: [{ cacheStatus: MISS_STORED }, { cacheStatus: HIT, originCount: 1 }],
  },
  // --- storing (§3) ---
  {
    name: "§3.5 an authorized request's answer is not looked up or stored",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=600" } }],
    steps: [
      { headers: { authorization: "Basic YTpi" }, cacheStatus: "edge-cache; fwd=bypass; detail=authorization" },
      { cacheStatus: MISS_STORED, originCount: 2 },
    ],
  },
  {
    name: "§5.2.1.5 a request's no-store keeps its answer out of the cache",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=600" } }],
    steps: [{ headers: { "cache-control": "no-store" }, cacheStatus: "edge-cache; fwd=uri-miss; detail=request-no-store" }, { cacheStatus: MISS_STORED }],
  },
  {
    name: "§5.2.2.4 no-cache: stored, but revalidated before every use",
    settings: respect,
    script: [{ headers: { "cache-control": "no-cache", etag: '"a"' }, body: "one" }, { status: 304, headers: { etag: '"a"' } }],
    steps: [
      { cacheStatus: /stored; ttl=0/ },
      { cacheStatus: /fwd=stale; fwd-status=304/, body: "one", originCount: 2 },
    ],
  },
  // --- request directives (§5.2.1) ---
  {
    name: "§5.2.1.4 client no-cache is ignored by default (no cache-busting lever)",
    settings: { ttl: { edge: 600 } },
    script: [{}],
    steps: [{}, { headers: { "cache-control": "no-cache" }, cacheStatus: HIT }, { headers: { pragma: "no-cache" }, cacheStatus: HIT, originCount: 1 }],
  },
  {
    name: "§5.2.1.4 client no-cache is honoured when the rule says so",
    settings: { ttl: { edge: 600 }, clientCacheControl: "honor" },
    script: [{ headers: { etag: '"e"' } }, { status: 304, headers: { etag: '"e"' } }],
    steps: [{}, { headers: { "cache-control": "max-age=0" }, cacheStatus: /fwd=stale; fwd-status=304/, originCount: 2 }],
  },
  // --- Age (§4.2.3, §5.1) ---
  {
    name: "§4.2.3 Age counts the origin's Age and the time resident",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=100", age: "40" } }],
    steps: [{ cacheStatus: /stored; ttl=100/ }, { advance: 10, cacheStatus: "edge-cache; hit; ttl=50; detail=edge", header: ["age", "50"] }],
  },
  {
    name: "§4.2.3 apparent age from an old Date header",
    settings: respect,
    script: () => [{ headers: { "cache-control": "max-age=100", date: new Date(Date.now() - 30_000).toUTCString() } }],
    steps: [{}, { cacheStatus: /^edge-cache; hit; ttl=(69|70); detail=edge$/ }],
  },
  // --- validation (§4.3) ---
  {
    name: "§4.3.2 If-None-Match on a fresh entry: 304 from the cache",
    settings: { ttl: { edge: 600 } },
    script: [{ headers: { etag: '"v1"', "cache-control": "public" } }],
    steps: [{}, { headers: { "if-none-match": 'W/"v1"' }, status: 304, body: "", header: ["etag", '"v1"'], originCount: 1 }],
  },
  {
    name: "§4.3.2 If-Modified-Since on a fresh entry: 304 from the cache",
    settings: { ttl: { edge: 600 } },
    script: [{ headers: { "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }],
    steps: [{}, { headers: { "if-modified-since": now() }, status: 304 }, { headers: { "if-modified-since": "Sun, 31 Dec 2023 00:00:00 GMT" }, status: 200 }],
  },
  {
    name: "§4.3.1 a stale entry with an ETag is revalidated; 304 refreshes it",
    settings: { ttl: { edge: 60 } },
    script: [{ headers: { etag: '"v1"' }, body: "original" }, { status: 304, headers: { etag: '"v1"', "x-fresh": "yes" } }],
    steps: [
      {},
      { advance: 61, cacheStatus: /^edge-cache; fwd=stale; fwd-status=304; stored; ttl=60; detail=edge$/, body: "original", header: ["x-fresh", "yes"] },
      { advance: 10, cacheStatus: /^edge-cache; hit; ttl=50/, body: "original", header: ["x-fresh", "yes"], originCount: 2 },
    ],
  },
  {
    name: "§4.3.1 the conditional request carries the stored validators",
    settings: { ttl: { edge: 60 } },
    script: [{ headers: { etag: '"v9"', "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }, { status: 304, headers: { etag: '"v9"' } }],
    steps: [{}, { advance: 61, cacheStatus: /fwd-status=304/ }],
  },
  {
    name: "§4.3.3 a 200 to the conditional request replaces the entry",
    settings: { ttl: { edge: 60 } },
    script: [{ headers: { etag: '"v1"' }, body: "old" }, { headers: { etag: '"v2"' }, body: "new" }],
    steps: [{}, { advance: 61, body: "new", cacheStatus: /fwd=stale; fwd-status=200; stored/ }, { body: "new", cacheStatus: HIT, originCount: 2 }],
  },
  // --- stale serving (RFC 5861) ---
  {
    name: "RFC 5861 §3 stale-while-revalidate: stale served at once, refreshed in the background",
    settings: { ttl: { edge: 60 }, staleWhileRevalidate: 30 },
    script: [{ body: "v{n}" }],
    steps: [
      { body: "v1" },
      { advance: 70, body: "v1", cacheStatus: /^edge-cache; hit; ttl=-10; detail=edge\/stale-while-revalidate$/, originCount: 2 },
      { body: "v2", cacheStatus: HIT, originCount: 2 },
    ],
  },
  {
    name: "RFC 5861 §3 the origin's stale-while-revalidate directive counts too",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=10, stale-while-revalidate=100" }, body: "v{n}" }],
    steps: [{ body: "v1" }, { advance: 50, body: "v1", cacheStatus: /stale-while-revalidate/ }, { body: "v2" }],
  },
  {
    name: "RFC 5861 §4 stale-if-error: a 503 from the origin gets the stale entry",
    settings: { ttl: { edge: 60 }, staleIfError: 600 },
    script: [{ body: "good" }, { status: 503, body: "down" }],
    steps: [
      { body: "good" },
      { advance: 120, status: 200, body: "good", cacheStatus: "edge-cache; fwd=stale; fwd-status=503; ttl=-60; detail=edge" },
      { status: 200, body: "good", originCount: 3 },
    ],
  },
  {
    name: "RFC 5861 §4 stale-if-error: origin unreachable gets the stale entry",
    settings: { ttl: { edge: 60 }, staleIfError: 600 },
    script: [{ body: "good" }, { reset: true }],
    steps: [{ body: "good" }, { advance: 120, status: 200, body: "good", cacheStatus: /fwd=stale; fwd-status=502/ }],
  },
  {
    name: "RFC 5861 §4 past the stale-if-error window: the error, not the stale entry",
    settings: { ttl: { edge: 60 }, staleIfError: 30 },
    script: [{ body: "good" }, { status: 503, body: "down" }],
    steps: [{}, { advance: 120, status: 503, body: "down" }],
  },
  {
    name: "a 5xx never replaces a good entry",
    settings: { ttl: { edge: 60 }, staleIfError: 600, status: { "5xx": 600 } },
    script: [{ body: "good" }, { status: 500, body: "bad" }, { body: "good again" }],
    steps: [{}, { advance: 61, body: "good" }, { body: "good again", cacheStatus: /fwd=stale; fwd-status=200; stored/ }],
  },
  {
    name: "§4.2.4 must-revalidate: never served stale, even with stale-if-error",
    settings: { ttl: { edge: 60 }, staleIfError: 600, origin: "respect" },
    script: [{ headers: { "cache-control": "max-age=60, must-revalidate" }, body: "good" }, { status: 503, body: "down" }],
    steps: [{}, { advance: 61, status: 503, body: "down" }],
  },
  {
    name: "§5.2.2.10 s-maxage implies proxy-revalidate: never served stale",
    settings: { staleIfError: 600, origin: "respect" },
    script: [{ headers: { "cache-control": "s-maxage=60" }, body: "good" }, { reset: true }],
    steps: [{}, { advance: 61, status: 502 }],
  },
  // --- HTTP dates (RFC 9110 §5.6.7) ---
  ...([["RFC 850", rfc850], ["asctime", asctime]] as const).map(([form, format]): Row => ({
    name: `RFC 9110 §5.6.7 an Expires in the obsolete ${form} form is read`,
    settings: respect,
    script: () => [{ headers: { expires: format(120) } }],
    steps: [{ cacheStatus: /stored; ttl=1(19|20)$/ }, { advance: 60, cacheStatus: HIT, originCount: 1 }],
  })),
  // "a cache recipient SHOULD match the field value case-insensitively" (§4.2).
  ...([
    ["lower case", (s: number) => imf(s).toLowerCase()],
    ["upper case", (s: number) => imf(s).toUpperCase()],
    ["mixed case (Gmt)", (s: number) => imf(s).replace("GMT", "Gmt")],
    ["lower-case RFC 850", (s: number) => rfc850(s).toLowerCase()],
    ["upper-case asctime", (s: number) => asctime(s).toUpperCase()],
  ] as const).map(([what, format]): Row => ({
    name: `§4.2 an Expires in ${what} is read: dates are matched case-insensitively`,
    settings: respect,
    script: () => [{ headers: { expires: format(120) } }],
    steps: [{ cacheStatus: /stored; ttl=1(19|20)$/ }, { advance: 60, cacheStatus: HIT, originCount: 1 }],
  })),
  ...MALFORMED_DATES.map(([what, format]): Row => ({
    name: `RFC 9110 §5.6.7, RFC 9111 §5.3 an Expires with ${what} is invalid: already expired`,
    settings: respect,
    script: (): ScriptedResponse[] => [{ headers: { expires: format(2 * 86_400), etag: '"e"' } }, { status: 304, headers: { etag: '"e"' } }],
    steps: [{ cacheStatus: /stored; ttl=0/ }, { cacheStatus: /fwd=stale; fwd-status=304/, originCount: 2 }],
  })),
  ...MALFORMED_DATES.map(([what, format]): Row => ({
    name: `RFC 9110 §5.6.7 a Date with ${what} is ignored (no apparent age from it)`,
    settings: respect,
    script: () => [{ headers: { date: format(-2 * 86_400), "cache-control": "max-age=100" } }],
    steps: [{ cacheStatus: /stored; ttl=100/ }, { advance: 50, cacheStatus: HIT, originCount: 1 }],
  })),
  {
    name: "RFC 9110 §5.6.7 a Last-Modified that is not an HTTP date gives no heuristic freshness",
    settings: respect,
    script: () => [{ headers: { "last-modified": MALFORMED_DATES[0]![1](-365 * 86_400) } }],
    steps: [{ cacheStatus: /stored; ttl=0/ }],
  },
  {
    name: "RFC 9110 §5.6.7, §13.1.3 an If-Modified-Since that is not an HTTP date is ignored",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=600", "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }],
    steps: [{}, { headers: { "if-modified-since": MALFORMED_DATES[0]![1](0) }, status: 200 }, { headers: { "if-modified-since": rfc850(0) }, status: 304, originCount: 1 }],
  },
  // --- conditional requests (RFC 9110 §13.1.3, §13.2.2) ---
  {
    name: "RFC 9110 §13.1.3 If-Modified-Since on a fresh entry without Last-Modified: evaluated against its Date",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=600" } }],
    steps: [
      {},
      // Times an hour away: the rows are built before the test clock starts.
      { advance: 5, headers: { "if-modified-since": imf(3600) }, status: 304, body: "" },
      { headers: { "if-modified-since": imf(-3600) }, status: 200, originCount: 1 },
    ],
  },
  // --- status codes (§3, §4.2.2, §5.2.2.3) ---
  ...[299, 499, 599].map((status): Row => ({
    name: `§3 an unknown final status (${status}) with explicit freshness is reused while fresh, never once stale`,
    settings: respect,
    script: [{ status, headers: { "cache-control": "max-age=30" }, body: "v{n}" }],
    steps: [
      { status, body: "v1", cacheStatus: /stored; ttl=30/ },
      { advance: 29, status, body: "v1", cacheStatus: HIT, originCount: 1 },
      // Stale: asked again (a 5xx answer is passed on but never replaces the entry).
      { advance: 2, status, body: "v2", cacheStatus: new RegExp(`^edge-cache; fwd=stale; fwd-status=${status}`), originCount: 2 },
    ],
  })),
  {
    name: "§4.2.2 an unknown status is not heuristically cacheable",
    settings: respect,
    script: [{ status: 299, headers: { "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }],
    steps: [{ status: 299, cacheStatus: "edge-cache; fwd=uri-miss; detail=status" }, { status: 299, originCount: 2 }],
  },
  {
    name: "§4.2.2 an unknown status marked public is heuristically cacheable",
    settings: respect,
    script: [{ status: 299, headers: { "cache-control": "public", "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }],
    steps: [{ status: 299, cacheStatus: MISS_STORED }, { status: 299, cacheStatus: HIT, originCount: 1 }],
  },
  {
    name: "§5.2.2.3 must-understand with a status we understand: no-store is ignored",
    settings: respect,
    script: [{ headers: { "cache-control": "must-understand, no-store, max-age=60" }, body: "v{n}" }],
    steps: [{ body: "v1", cacheStatus: /stored; ttl=60/ }, { body: "v1", cacheStatus: HIT, originCount: 1 }],
  },
  {
    name: "§5.2.2.3 must-understand with a status we do not understand: not stored",
    settings: respect,
    script: [{ status: 299, headers: { "cache-control": "must-understand, no-store, max-age=60" } }],
    steps: [{ status: 299, cacheStatus: "edge-cache; fwd=uri-miss; detail=must-understand" }, { status: 299, originCount: 2 }],
  },
  // --- Authorization (§3.5), on a route without the default bypass ---
  {
    name: "§3.5 without the bypass, an authorized answer without public, s-maxage or must-revalidate is not stored",
    settings: { ...respect, cacheAuthorized: true },
    script: [{ headers: { "cache-control": "max-age=600" } }],
    steps: [
      { headers: { authorization: "Basic YTpi" }, cacheStatus: "edge-cache; fwd=uri-miss; detail=authorization" },
      { headers: { authorization: "Basic YTpi" }, cacheStatus: "edge-cache; fwd=uri-miss; detail=authorization", originCount: 2 },
    ],
  },
  ...["public, max-age=600", "s-maxage=600", "must-revalidate, max-age=600"].map((cc): Row => ({
    name: `§3.5 without the bypass, an authorized answer with "${cc}" is stored and reused`,
    settings: { ...respect, cacheAuthorized: true },
    script: [{ headers: { "cache-control": cc } }],
    steps: [
      { headers: { authorization: "Basic YTpi" }, cacheStatus: MISS_STORED },
      { headers: { authorization: "Basic Yzpk" }, cacheStatus: HIT, originCount: 1 },
    ],
  })),
  // --- Age (§5.1) ---
  // "If the field value (after discarding additional members, as per above) is invalid,
  // the cache SHOULD ignore the field": the answer is as fresh as its max-age says.
  ...["abc", "-5", "1.5", "old, 0", ""].map((age): Row => ({
    name: `§5.1 an invalid Age ("${age}") is ignored: fresh for its max-age`,
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=3600", age } }],
    steps: [
      { cacheStatus: /stored; ttl=3600/ },
      { advance: 10, cacheStatus: "edge-cache; hit; ttl=3590; detail=edge", header: ["age", "10"], originCount: 1 },
    ],
  })),
  {
    name: "§5.1 a list-valued Age uses its first member (Age: 10, 20 counts 10)",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=100", age: "10, 20" } }],
    steps: [{ cacheStatus: /stored; ttl=100/ }, { advance: 5, cacheStatus: "edge-cache; hit; ttl=85; detail=edge", header: ["age", "15"] }],
  },
  {
    name: "§5.1 with several Age lines, the first counts",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=100", age: ["40", "90"] } }],
    steps: [{ cacheStatus: /stored; ttl=100/ }, { advance: 10, cacheStatus: "edge-cache; hit; ttl=50; detail=edge", header: ["age", "50"] }],
  },
  // --- Vary (§4.1): selecting values normalized before they are matched and keyed ---
  {
    name: "§4.1 Vary: Accept: whitespace around list members does not make another variant",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=600", vary: "Accept" }, body: "v{n}" }],
    steps: [
      { headers: { accept: "text/html,application/json" }, body: "v1", cacheStatus: MISS_STORED },
      { headers: { accept: " text/html ,  application/json" }, body: "v1", cacheStatus: HIT },
      { headers: { accept: "application/json" }, body: "v2", cacheStatus: MISS_STORED, originCount: 2 },
    ],
  },
  {
    name: "§4.1 Vary: Accept-Language: tag case, order, spacing and q-values do not make another variant",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=600", vary: "Accept-Language" }, body: "v{n}" }],
    steps: [
      { headers: { "accept-language": "en-US, fr;q=0.5, de;q=0.5" }, body: "v1", cacheStatus: MISS_STORED },
      { headers: { "accept-language": "DE;q=0.50,FR ; q=0.5,en-us;q=1.0" }, body: "v1", cacheStatus: HIT, originCount: 1 },
      // The variant is chosen by q-value: another preference is another variant.
      { headers: { "accept-language": "fr, en-US;q=0.5" }, body: "v2", cacheStatus: MISS_STORED, originCount: 2 },
    ],
  },
  {
    name: "§4.1 Vary on a header we know nothing of: whitespace around its list delimiters does not make another variant",
    settings: respect,
    script: [{ headers: { "cache-control": "max-age=600", vary: "X-Foo" }, body: "v{n}" }],
    steps: [
      { headers: { "x-foo": "a, b" }, body: "v1", cacheStatus: MISS_STORED },
      { headers: { "x-foo": "a,b" }, body: "v1", cacheStatus: HIT },
      { headers: { "x-foo": "a ,\tb" }, body: "v1", cacheStatus: HIT, originCount: 1 },
      // Order may mean something in a field we do not know: another variant.
      { headers: { "x-foo": "b,a" }, body: "v2", cacheStatus: MISS_STORED, originCount: 2 },
    ],
  },
  {
    name: "§4.1 the variant cap counts meanings, not spellings",
    settings: { ...respect, maxVariants: 2 },
    script: [{ headers: { "cache-control": "max-age=600", vary: "Accept-Language" }, body: "v{n}" }],
    steps: [
      { headers: { "accept-language": "en" }, body: "v1", cacheStatus: MISS_STORED },
      { headers: { "accept-language": "EN" }, body: "v1", cacheStatus: HIT },
      { headers: { "accept-language": "en;q=1, " }, body: "v1", cacheStatus: HIT },
      { headers: { "accept-language": "fr" }, body: "v2", cacheStatus: MISS_STORED },
      { headers: { "accept-language": "de" }, body: "v3", cacheStatus: "edge-cache; fwd=uri-miss; detail=variant-cap", originCount: 3 },
    ],
  },
  // --- stored fields (§3.1, §3.2, §4.3.4): what frames the stored body travels with it ---
  {
    name: "§3.1 Content-Length is stored and sent on a hit from the Cache API",
    settings: { ttl: { edge: 600 } },
    script: [{ body: "0123456789" }],
    steps: [
      { cacheStatus: MISS_STORED, fields: { "content-length": "10" } },
      { cacheStatus: /^edge-cache; hit;.*detail=edge$/, body: "0123456789", fields: { "content-length": "10" }, originCount: 1 },
    ],
  },
  {
    name: "§3.1 Content-Length is stored and sent on a hit from KV",
    settings: { ttl: { edge: 0, kv: 600 } },
    script: [{ headers: { "cache-control": "max-age=600" }, body: "0123456789" }],
    steps: [
      { cacheStatus: MISS_STORED, fields: { "content-length": "10" } },
      { cacheStatus: /^edge-cache; hit;.*detail=kv$/, body: "0123456789", fields: { "content-length": "10" }, originCount: 1 },
    ],
  },
  {
    name: "§3.2 a HEAD hit from the Cache API answers with the stored Content-Length and no body",
    settings: { ttl: { edge: 600 } },
    script: [{ body: "0123456789" }],
    steps: [{}, { method: "HEAD", status: 200, cacheStatus: HIT, body: "", fields: { "content-length": "10" }, originCount: 1 }],
  },
  {
    name: "§3.2 a HEAD hit from KV answers with the stored Content-Length and no body",
    settings: { ttl: { edge: 0, kv: 600 } },
    script: [{ headers: { "cache-control": "max-age=600" }, body: "0123456789" }],
    steps: [{}, { method: "HEAD", status: 200, cacheStatus: HIT, body: "", fields: { "content-length": "10" }, originCount: 1 }],
  },
  {
    name: "§4.3.4 a 304 never updates Content-Length, Content-Range or Content-Encoding of the stored response",
    settings: { ttl: { edge: 60 } },
    script: [
      { headers: { etag: '"v1"' }, body: "original" },
      { status: 304, headers: { etag: '"v1"', "content-length": "0", "content-range": "bytes 0-0/1", "content-encoding": "gzip", "x-fresh": "yes" } },
    ],
    steps: [
      {},
      {
        advance: 61,
        cacheStatus: /fwd=stale; fwd-status=304; stored/,
        body: "original",
        fields: { "content-length": "8", "content-range": null, "content-encoding": null, "x-fresh": "yes" },
      },
      { cacheStatus: HIT, body: "original", fields: { "content-length": "8", "content-range": null, "content-encoding": null, "x-fresh": "yes" }, originCount: 2 },
      { method: "HEAD", cacheStatus: HIT, body: "", fields: { "content-length": "8" }, originCount: 2 },
    ],
  },
  // --- ranges (RFC 9110 §14) ---
  {
    name: "RFC 9110 §14.2 a Range on a cached 200 is answered 206 from the entry",
    settings: { ttl: { edge: 600 } },
    script: [{ body: "0123456789" }],
    steps: [
      { body: "0123456789" },
      { headers: { range: "bytes=2-5" }, status: 206, body: "2345", header: ["content-range", "bytes 2-5/10"] },
      { headers: { range: "bytes=-3" }, status: 206, body: "789" },
      { headers: { range: "bytes=20-" }, status: 416, header: ["content-range", "bytes */10"], originCount: 1 },
    ],
  },
  {
    name: "a range miss fetches and stores the whole entry, and answers the range",
    settings: { ttl: { edge: 600 } },
    script: [{ body: "abcdefghij" }],
    steps: [
      { headers: { range: "bytes=0-2" }, status: 206, body: "abc", cacheStatus: MISS_STORED },
      { body: "abcdefghij", cacheStatus: HIT, originCount: 1 },
    ],
  },
  {
    name: "a 206 the origin sends to a request without Range is passed through, never stored",
    settings: { ttl: { edge: 600 } },
    script: [{ status: 206, headers: { "content-range": "bytes 0-1/10" }, body: "ab" }],
    steps: [{ status: 206, cacheStatus: "edge-cache; fwd=uri-miss; detail=status" }, { status: 206, originCount: 2 }],
  },
  // --- partial content (§3.3, §3.4): the origin honours Range; more in partial-content.test.ts ---
  {
    name: "§3.3 a 206 for a range of a cold URL is stored; a smaller range inside it is answered from the cache",
    settings: { ttl: { edge: 600 } },
    script: [{ body: "0123456789abcdefghij", ranges: true, headers: { etag: '"r1"' } }],
    steps: [
      { headers: { range: "bytes=0-9" }, status: 206, body: "0123456789", cacheStatus: "edge-cache; fwd=uri-miss; stored; ttl=600; detail=partial" },
      { headers: { range: "bytes=2-5" }, status: 206, body: "2345", cacheStatus: /^edge-cache; hit; ttl=\d+; detail=edge\/partial$/, header: ["content-range", "bytes 2-5/20"], originCount: 1 },
    ],
  },
  {
    name: "§3.4 206s with the same strong validator are combined, and a complete set becomes the whole entry",
    settings: { ttl: { edge: 600 } },
    script: [{ body: "0123456789abcdefghij", ranges: true, headers: { etag: '"r1"' } }],
    steps: [
      { headers: { range: "bytes=0-9" }, status: 206 },
      { headers: { range: "bytes=10-14" }, status: 206, body: "abcde" },
      { headers: { range: "bytes=5-12" }, status: 206, body: "56789abc", cacheStatus: /^edge-cache; hit; ttl=\d+; detail=edge\/partial$/, originCount: 2 },
      { headers: { range: "bytes=15-" }, status: 206, body: "fghij", header: ["content-range", "bytes 15-19/20"] },
      { status: 200, body: "0123456789abcdefghij", cacheStatus: /^edge-cache; hit; ttl=\d+; detail=edge$/, originCount: 3 },
    ],
  },
  {
    name: "§3.4 206s with different validators are never combined",
    settings: { ttl: { edge: 600 } },
    script: [
      { body: "0123456789abcdefghij", ranges: true, headers: { etag: '"a"' } },
      { body: "ABCDEFGHIJKLMNOPQRST", ranges: true, headers: { etag: '"b"' } },
    ],
    steps: [
      { headers: { range: "bytes=0-9" }, body: "0123456789" },
      { headers: { range: "bytes=10-19" }, body: "KLMNOPQRST" },
      { headers: { range: "bytes=5-14" }, status: 206, body: "FGHIJKLMNO", cacheStatus: /^edge-cache; fwd=uri-miss; stored/, originCount: 3 },
      { status: 200, body: "ABCDEFGHIJKLMNOPQRST", cacheStatus: /^edge-cache; fwd=uri-miss; stored/, originCount: 4 },
    ],
  },
  // --- POST answers reused for GET (§4, RFC 9110 §9.3.3); the path ends in "/p", so Content-Location "p" is the request URI ---
  {
    name: "§4, RFC 9110 §9.3.3 a POST answer with explicit freshness and Content-Location equal to its URI is served to a later GET",
    settings: { ...respect, storePostAnswers: true },
    script: [{ headers: { "cache-control": "max-age=600", "content-location": "p" }, body: "posted {n}" }],
    steps: [
      { method: "POST", body: "posted 1", cacheStatus: "edge-cache; fwd=method; stored; ttl=600" },
      { body: "posted 1", cacheStatus: HIT, originCount: 1 },
      { method: "HEAD", body: "", cacheStatus: HIT, originCount: 1 },
    ],
  },
  {
    name: "§4, RFC 9110 §9.3.3 a stored POST answer replaces what a GET of the URI stored",
    settings: { ...respect, storePostAnswers: true },
    script: [{ headers: { "cache-control": "max-age=600", "content-location": "p" }, body: "v{n}" }],
    steps: [
      { body: "v1", cacheStatus: MISS_STORED },
      { method: "POST", body: "v2", cacheStatus: /^edge-cache; fwd=method; stored/ },
      { body: "v2", cacheStatus: HIT, originCount: 2 },
    ],
  },
  ...([
    ["on a route that does not opt in", respect, { "cache-control": "max-age=600", "content-location": "p" }, "method"],
    ["without Content-Location", { ...respect, storePostAnswers: true }, { "cache-control": "max-age=600" }, "method"],
    ["with a Content-Location of another URI", { ...respect, storePostAnswers: true }, { "cache-control": "max-age=600", "content-location": "q" }, "method"],
    ["without explicit freshness (a rule's TTL is not the origin's)", { ttl: { edge: 600 }, storePostAnswers: true }, { "content-location": "p" }, "method"],
    ["marked private", { ...respect, storePostAnswers: true }, { "cache-control": "private, max-age=600", "content-location": "p" }, "private"],
    ["with Set-Cookie", { ...respect, storePostAnswers: true }, { "cache-control": "max-age=600", "content-location": "p", "set-cookie": "s=1" }, "set-cookie"],
  ] as const).map(([what, settings, headers, detail]): Row => ({
    name: `§4, RFC 9110 §9.3.3 a POST answer ${what} is not stored, and still invalidates the URI (§4.4)`,
    settings,
    script: [{ headers: { "cache-control": "max-age=600" }, body: "v{n}" }, { headers, body: "v{n}" }, { headers: { "cache-control": "max-age=600" }, body: "v{n}" }],
    steps: [
      { body: "v1", cacheStatus: MISS_STORED },
      { method: "POST", body: "v2", cacheStatus: `edge-cache; fwd=method; detail=${detail}` },
      { body: "v3", cacheStatus: MISS_STORED, originCount: 3 },
    ],
  })),
];

describe("RFC 9111 conformance", () => {
  for (const row of rows) {
    it(row.name, async () => {
      const h = harness({ routes: [{ name: "all", match: { path: "/*" }, ...row.settings }] });
      const path = origin.path();
      await origin.script(path, ...(typeof row.script === "function" ? row.script() : row.script));
      for (const [i, step] of row.steps.entries()) {
        if (step.advance) h.clock.advance(step.advance);
        const got = await h.request(path, { method: step.method ?? "GET", headers: step.headers });
        const where = `step ${i + 1}`;
        if (step.status !== undefined) expect(got.status, where).toBe(step.status);
        if (typeof step.cacheStatus === "string") expect(got.cacheStatus, where).toBe(step.cacheStatus);
        else if (step.cacheStatus) expect(got.cacheStatus, where).toMatch(step.cacheStatus);
        if (step.body !== undefined) expect(got.text, where).toBe(step.body);
        if (step.header) expect(got.headers.get(step.header[0]), where).toBe(step.header[1]);
        for (const [name, value] of Object.entries(step.fields ?? {})) expect(got.headers.get(name), `${where}: ${name}`).toBe(value);
        if (step.originCount !== undefined) expect(await origin.count(path), where).toBe(step.originCount);
      }
    });
  }

  it("§4.3.1 the revalidation request carries If-None-Match and If-Modified-Since", async () => {
    const h = harness({ defaults: { ttl: { edge: 60 } } });
    const path = origin.path();
    await origin.script(path, { headers: { etag: '"v9"', "last-modified": "Mon, 01 Jan 2024 00:00:00 GMT" } }, { status: 304 });
    await h.get(path, { headers: { "if-none-match": '"client"' } });
    h.clock.advance(61);
    await h.get(path);
    const [first, second] = await origin.requests(path);
    expect(first?.headers["if-none-match"]).toBeUndefined();
    expect(second?.headers["if-none-match"]).toBe('"v9"');
    expect(second?.headers["if-modified-since"]).toBe("Mon, 01 Jan 2024 00:00:00 GMT");
  });

  it("RFC 9110 §6.6.1, §13.2.2 an answer without a valid Date is stored dated when received: If-Modified-Since is evaluated against that Date", async () => {
    const h = harness({ routes: [{ name: "all", match: { path: "/*" }, ...respect }] });
    const path = origin.path();
    await origin.script(path, { headers: { "cache-control": "max-age=600", date: "yesterday" } });
    const received = new Date(h.clock.now()).toUTCString();
    await h.get(path);
    h.clock.advance(5);
    const hit = await h.get(path);
    expect(hit.cacheStatus).toMatch(HIT);
    expect(hit.headers.get("date")).toBe(received);
    expect((await h.get(path, { headers: { "if-modified-since": received } })).status).toBe(304);
    const before = new Date(Date.parse(received) - 1000).toUTCString();
    expect((await h.get(path, { headers: { "if-modified-since": before } })).status).toBe(200);
    expect(await origin.count(path)).toBe(1);
  });

  it("respect mode passes extension methods and every end-to-end header through", async () => {
    const h = harness({ routes: [{ name: "all", match: { path: "/*" }, origin: "respect" }] });
    const path = origin.path();
    await origin.script(path, { status: 207, headers: { "x-origin": "1", "cache-control": "max-age=60" } });
    const got = await h.request(path, { method: "PROPFIND", headers: { depth: "1", "x-client": "c" } });
    expect(got.status).toBe(207);
    expect(got.cacheStatus).toBe("edge-cache; fwd=method; detail=method");
    expect(got.headers.get("x-origin")).toBe("1");
    expect(got.headers.get("cache-control")).toBe("max-age=60");
    const [seen] = await origin.requests(path);
    expect(seen?.method).toBe("PROPFIND");
    expect(seen?.headers.depth).toBe("1");
    expect(seen?.headers["x-client"]).toBe("c");
  });
});
