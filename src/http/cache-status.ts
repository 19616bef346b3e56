/**
 * Our one Cache-Status entry (RFC 9211), as data until the last moment.
 */

import { splitList } from "./fields";

export const CACHE_NAME = "edge-cache";

/** RFC 9211 §2.2 forward reasons: the ones we produce. */
export type ForwardReason = "bypass" | "method" | "uri-miss" | "stale";

export interface CacheStatus {
  /** §2.1: served from the cache without going forward. */
  hit?: boolean;
  fwd?: ForwardReason;
  /** §2.3: the status the forward attempt got (e.g. the origin's 503 when we serve stale). */
  fwdStatus?: number;
  /** §2.5: the forwarded answer was stored. */
  stored?: boolean;
  /** §2.6: the forwarded answer was shared with other requests. */
  collapsed?: boolean;
  /** §2.4: seconds of freshness left (negative when stale). */
  ttl?: number;
  /** §2.8: which tier, or why. */
  detail?: string;
}

// RFC 8941 §3.3.4 sf-token.
const TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

function item(value: string): string {
  if (TOKEN.test(value)) return value;
  // RFC 8941 §3.3.3 sf-string: printable ASCII, with " and \ escaped.
  return `"${value.replace(/[^\x20-\x7e]/g, "?").replace(/["\\]/g, "\\$&")}"`;
}

/** Serializes our entry as an RFC 8941 list member: `edge-cache; hit; ttl=60; detail=edge`. */
export function formatCacheStatus(s: CacheStatus): string {
  const params: string[] = [];
  if (s.hit) params.push("hit");
  if (s.fwd) params.push(`fwd=${s.fwd}`);
  if (s.fwdStatus !== undefined) params.push(`fwd-status=${s.fwdStatus}`);
  if (s.stored) params.push("stored");
  if (s.collapsed) params.push("collapsed");
  // RFC 8941 §3.3.1: integers have at most 15 digits.
  if (s.ttl !== undefined) params.push(`ttl=${Math.max(-999_999_999_999_999, Math.min(999_999_999_999_999, Math.trunc(s.ttl)))}`);
  if (s.detail) params.push(`detail=${item(s.detail)}`);
  return [CACHE_NAME, ...params].join("; ");
}

/**
 * Adds our entry after any the origin's own caches wrote (RFC 9211 §2: the list runs
 * from the origin towards the user), replacing any that claims to be ours.
 */
export function appendCacheStatus(headers: Pick<Headers, "get" | "set">, s: CacheStatus): void {
  const existing = headers.get("cache-status");
  if (existing === null) return headers.set("cache-status", formatCacheStatus(s));
  const upstream = splitList(existing).filter((v) => v.split(";")[0]?.trim() !== CACHE_NAME);
  headers.set("cache-status", [...upstream, formatCacheStatus(s)].join(", "));
}
