/**
 * The cache key: one canonical string per cacheable thing, built as the route says.
 * Pure. The same string addresses both tiers (hashed for storage) and is kept in the
 * entry so a hit can be checked and explained.
 *
 * Shape: `https://host/path?kept=query` and, when the route keys on request headers,
 * cookies or the device/country/language dimensions, a newline and a JSON array of
 * them (JSON so that no value can forge a separator; an absent header is `null`,
 * unlike an empty one).
 */
import { parseCookies } from "../http/fields";
import type { CompiledKey } from "../rules/types";
import { dimensionsOf, type Dimensions } from "./dimensions";
import { sha256Hex } from "./digest";

export interface CacheKey {
  /** The canonical key string. */
  key: string;
  /** The normalized URL the key starts with; also what the origin is asked for. */
  url: URL;
  parts: {
    scheme: string;
    host: string;
    path: string;
    /** Kept query pairs, raw (percent-encoded), in key order. */
    query: string[];
    /** Dropped query parameter names (decoded). */
    dropped: string[];
    headers: [string, string | null][];
    cookies: [string, string | null][];
    /** Present when the route keys on device, country or language: each one's value. */
    dimensions?: Dimensions;
  };
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * RFC 3986 §6.2.2: upper-case percent-encoding hex digits and decode only unreserved
 * characters, so equivalent spellings meet without ever turning %2F into a new `/`.
 */
export function normalizePercentEncoding(s: string): string {
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

/**
 * The request's URL as every decision reads it (route match, bypass, key, origin
 * request, purge attribution, explain): scheme and host lower-case (the URL parser
 * does that), percent-encoding normalized in the path and the query. Deciding from
 * one spelling and keying another would let `/%61pi/x` pick the catch-all route's
 * TTL and be stored under `/api/x`. The same URL object when there is nothing to do.
 */
export function normalizeUrl(url: URL): URL {
  if (!url.pathname.includes("%") && !url.search.includes("%")) return url;
  const out = new URL(url.href);
  out.pathname = normalizePercentEncoding(url.pathname);
  out.search = normalizePercentEncoding(url.search);
  return out;
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

/** Builds the key for a request under a route's key settings; `country` is `request.cf.country`. */
export function buildCacheKey(url: URL, headers: Headers, key: CompiledKey, country?: unknown): CacheKey {
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const host = url.host.toLowerCase();
  const path = normalizePercentEncoding(url.pathname);

  const kept: { name: string; raw: string }[] = [];
  const dropped: string[] = [];
  const search = url.search.slice(1);
  if (search) {
    for (const pair of search.split("&")) {
      if (!pair) continue;
      // Normalize first, so that spellings that differ only in encoding sort alike.
      const raw = normalizePercentEncoding(pair);
      const eq = raw.indexOf("=");
      const name = decodeName(eq < 0 ? raw : raw.slice(0, eq));
      const listed = key.query.names.test(name);
      if (key.query.mode === "ignore" ? listed : !listed) dropped.push(name);
      else kept.push({ name, raw });
    }
  }
  if (key.query.sort) {
    // Stable, by name only: the values of one name keep the order they were sent in,
    // because many origins read `a=2&a=1` as the list [2, 1]; sorting them would forward
    // (and key) a request the client did not make, so the two orders are two keys.
    kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  const query = kept.map((q) => q.raw);

  const headerDims: [string, string | null][] = key.headers.map((h) => [h, headers.get(h)]);
  const cookies = key.cookies.length ? parseCookies(headers.get("cookie")) : new Map<string, string>();
  const cookieDims: [string, string | null][] = key.cookies.map((c) => [c, cookies.get(c) ?? null]);

  const keyed = key.device || key.country !== null || key.language !== null;
  const dimensions = keyed ? dimensionsOf(key, headers, country) : null;
  const dims = Object.entries(dimensions ?? {}).map(([n, v]) => ["d", n, v]);

  const normalized = new URL(`${scheme}://${host}${path}${query.length ? `?${query.join("&")}` : ""}`);
  let keyString = normalized.href;
  if (headerDims.length || cookieDims.length || dims.length) {
    keyString += `\n${JSON.stringify([...headerDims.map(([n, v]) => ["h", n, v]), ...cookieDims.map(([n, v]) => ["c", n, v]), ...dims])}`;
  }
  const parts: CacheKey["parts"] = { scheme, host, path, query, dropped, headers: headerDims, cookies: cookieDims };
  if (dimensions) parts.dimensions = dimensions;
  return { key: keyString, url: normalized, parts };
}

/** A fixed-length storage name for a key (KV keys are at most 512 bytes). */
export const hashKey = sha256Hex;
