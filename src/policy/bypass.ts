/**
 * Bypass checks, one small named check per reason (as Varnish's builtin.vcl does),
 * tried in order; the first reason wins and goes into Cache-Status `detail`. Pure.
 */
import type { CompiledRoute } from "../rules/types";
import { parseCookies } from "../http/fields";

export type BypassReason =
  | "route"
  | "method"
  | "body"
  | "path"
  | "upgrade"
  | "authorization"
  | "header"
  | "cookie"
  | "query";

interface BypassVerdict {
  reason: BypassReason;
  /** What triggered it (a header or cookie name), for explanations; never a value. */
  detail?: string;
}

/** The methods whose answers we look up and store (RFC 9110 §9.2.3: GET, and HEAD from its GET). */
export const CACHEABLE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD"]);

/** Encoded `/`, `\`, `.`, NUL, CR, LF, `?`, `#`, `;`, once or twice encoded. */
const AMBIGUOUS_PATH = /%(25)*(2f|5c|2e|00|0a|0d|3f|23|3b)/i;

/** Whether a path holds an encoded delimiter: such requests are never looked up nor stored. */
export function ambiguousPath(pathname: string): boolean {
  return AMBIGUOUS_PATH.test(pathname);
}

type Check = (route: CompiledRoute, method: string, url: URL, headers: Headers, rawPath: string) => BypassVerdict | null;

const checks: Check[] = [
  function routeSaysBypass(route) {
    return route.bypass.always ? { reason: "route" } : null;
  },
  function methodNotCacheable(route, method) {
    if (!CACHEABLE_METHODS.has(method) || route.bypass.methods.includes(method)) {
      return { reason: "method", detail: method };
    }
    return null;
  },
  function bodyOnSafeMethod(_route, _method, _url, headers) {
    // A GET with a body (some search APIs) may be answered by its body, which no key
    // includes: the origin must see it, and the answer must not be stored.
    const length = headers.get("content-length");
    return (length !== null && length.trim() !== "0") || headers.has("transfer-encoding") ? { reason: "body" } : null;
  },
  function encodedDelimiterInPath(_route, _method, _url, _headers, rawPath) {
    // Encoded delimiters mean one thing to our matcher and perhaps another to the
    // origin (`/static/..%2Faccount`): never store what such a path returns. Read on
    // the path as sent: normalizing decodes `%2E`, which may have been one.
    return ambiguousPath(rawPath) ? { reason: "path" } : null;
  },
  function protocolUpgrade(_route, _method, _url, headers) {
    // A WebSocket handshake is a conversation, not a document.
    return headers.has("upgrade") ? { reason: "upgrade" } : null;
  },
  function listedHeader(route, _method, _url, headers) {
    const name = route.bypass.headers.find((h) => headers.has(h));
    return name ? { reason: "header", detail: name } : null;
  },
  function authorization(route, _method, _url, headers) {
    // RFC 9111 §3.5: answers to authorized requests are per user unless the origin
    // says otherwise; like Varnish we do not even look them up.
    return headers.has("authorization") && !route.cacheAuthorized ? { reason: "authorization" } : null;
  },
  function listedCookie(route, _method, _url, headers) {
    if (route.bypass.cookies.globs.length === 0) return null;
    for (const name of parseCookies(headers.get("cookie")).keys()) {
      if (route.bypass.cookies.test(name)) return { reason: "cookie", detail: name };
    }
    return null;
  },
  function listedQuery(route, _method, url) {
    if (route.bypass.query.globs.length === 0) return null;
    for (const name of url.searchParams.keys()) {
      if (route.bypass.query.test(name)) return { reason: "query", detail: name };
    }
    return null;
  },
];

/**
 * The first reason this request must go to the origin uncached, or null to use the
 * cache. `url` is the normalized URL (normalizeUrl); `rawPath` the path as it came.
 */
export function bypassVerdict(route: CompiledRoute, method: string, url: URL, headers: Headers, rawPath = url.pathname): BypassVerdict | null {
  for (const check of checks) {
    const verdict = check(route, method, url, headers, rawPath);
    if (verdict) return verdict;
  }
  return null;
}
