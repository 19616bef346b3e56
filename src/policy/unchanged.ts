/**
 * Whether a 304 refresh (RFC 9111 §4.3.4) changed anything another location would
 * read from the KV copy: the stored fields, or the lifetimes they give. When nothing
 * changed, the KV copy (same body, same fields) is as good as a rewrite: a location
 * that reads it stale revalidates it itself, with a cheap conditional request.
 */
import type { Lifetimes } from "./freshness";

/** Fields every 304 refreshes without changing the entry: the lifetimes they give are compared instead. */
const MOVING = new Set(["date", "age", "expires"]);

function fields(headers: Iterable<[string, string]>): string {
  return JSON.stringify([...headers].filter(([k]) => !MOVING.has(k.toLowerCase())).map(([k, v]) => [k.toLowerCase(), v]).sort());
}

function sameLifetimes(a: Lifetimes, b: Lifetimes): boolean {
  return a.lifetime === b.lifetime && a.staleWhileRevalidate === b.staleWhileRevalidate && a.staleIfError === b.staleIfError && a.mustRevalidate === b.mustRevalidate;
}

export function unchangedBy304(
  before: { headers: readonly [string, string][]; lifetimes: Lifetimes },
  after: { headers: Headers; lifetimes: Lifetimes },
): boolean {
  return sameLifetimes(before.lifetimes, after.lifetimes) && fields(before.headers) === fields(after.headers);
}
