/**
 * Secondary cache keys from a stored response's Vary (RFC 9111 §4.1). The Cache API
 * ignores Vary for our entries, so we do it: one entry per variant, at a key made of
 * the primary key and the request's values of the named headers. Pure.
 */
import { normalizeAcceptLanguage } from "./accept-language";
import { sha256Hex } from "./digest";
import { splitList } from "../http/fields";

/** Lower-cased, sorted, de-duplicated names from Vary, "*" included; null when there is no Vary. */
export function varyNames(headers: Headers): string[] | null {
  const v = headers.get("vary");
  if (v === null) return null;
  const names = [...new Set(v.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean))].sort();
  return names.length ? names : null;
}

/**
 * Accept-Encoding in a few buckets: the runtime decodes origin bodies and Cloudflare
 * encodes for each client, so only the class of client matters, and a handful of
 * buckets keeps one variant per class instead of one per browser spelling.
 */
export function acceptEncodingBucket(value: string): string {
  const v = value.toLowerCase();
  if (/\bbr\b/.test(v)) return "br";
  if (/\bgzip\b/.test(v)) return "gzip";
  return "identity";
}

/**
 * Request fields known not to be lists, whose commas are part of one value (a date,
 * a cookie's value, credentials): only their whitespace is folded.
 */
const SINGLETON_FIELDS: ReadonlySet<string> = new Set([
  "authorization", "cookie", "date", "if-modified-since", "if-range", "if-unmodified-since", "proxy-authorization",
]);

/**
 * A selecting header's value as it is matched and keyed (§4.1 allows "adding or
 * removing whitespace, where allowed in the header field's syntax"): Accept-Encoding
 * by bucket, Accept-Language in its canonical spelling, any other value with its
 * whitespace folded and, unless it is known not to be a list, without the
 * whitespace around its list delimiters and its empty members (RFC 9110 §5.6.1).
 * A field we know nothing of is read as a list: field lines are combined with
 * commas (RFC 9110 §5.3), so a comma outside quotes delimits in almost every field,
 * and quoted strings keep their commas and spaces (`splitList`). Order is kept.
 */
export function selectingValue(name: string, raw: string): string {
  if (name === "accept-encoding") return acceptEncodingBucket(raw);
  const folded = raw.replace(/\s+/g, " ").trim();
  if (name === "accept-language") {
    const canonical = normalizeAcceptLanguage(folded);
    if (canonical !== null) return canonical;
  }
  return SINGLETON_FIELDS.has(name) ? folded : splitList(folded).join(", ");
}

/**
 * §4.1: a stored response matches when each named header has the same value in both
 * requests, after `selectingValue`; an absent header is not the same as an empty one
 * (`null` vs `""`). Used to store and to look up, so a variant is one meaning, and
 * the variant cap counts meanings, not spellings.
 */
export function variantKey(primary: string, epoch: number, names: readonly string[], requestHeaders: Headers): string {
  const dims = names.map((name) => {
    const raw = requestHeaders.get(name);
    return [name, raw === null ? null : selectingValue(name, raw)];
  });
  return `${primary}\nvary@${epoch}:${JSON.stringify(dims)}`;
}

/**
 * A variant as its Vary index lists it: a short name (`variantId`) and until when a
 * copy stored under it may still be kept, in seconds since the epoch.
 */
export type VariantMark = [id: string, until: number];

/** Hex digits of a variant's SHA-256 kept in its mark: 48 bits, so a value chosen to collide costs ~2^44 hashes and wins one variant. */
const ID_HEX = 12;

/** The name of a variant in its index: the start of its key's SHA-256 (the key itself can be long). */
export async function variantId(variantKey: string): Promise<string> {
  return (await sha256Hex(variantKey)).slice(0, ID_HEX);
}

/**
 * What storing one variant does to its index: `marks` is the index's new list, or
 * null when the index already says enough and needs no write (KV takes one write a
 * second per key: a refresh of a listed variant must not rewrite the index each time).
 */
export type VariantAdmission = { store: false } | { store: true; marks: VariantMark[] | null };

/**
 * §4.1 leaves how many variants to keep to the cache; `maxVariants` counts distinct
 * variants whose copy may still be kept. A listed one is always stored again (a
 * refresh, a re-store after an eviction or purge) at no cost; a new one is listed
 * while fewer than `cap` are live, else passes through (a `refresh` of a copy that is
 * already stored is never refused: it just is not listed).
 *
 * A mark is written to last half as long again as the copy (`keep` seconds from
 * `now`) and rewritten only once it would end before the copy stored now, so a
 * variant refreshed continuously rewrites its index about once per half its
 * retention, and the index, kept until its last mark ends, outlives every copy.
 * Expired marks are dropped whenever the index is written.
 */
export function admitVariant(marks: readonly VariantMark[], id: string, now: number, keep: number, cap: number, refresh = false): VariantAdmission {
  const live = marks.filter(([, until]) => until > now);
  const mark: VariantMark = [id, now + Math.ceil(keep * 1.5)];
  const mine = live.find(([listed]) => listed === id);
  if (mine) return { store: true, marks: mine[1] >= now + keep ? null : live.map((m) => (m === mine ? mark : m)) };
  if (live.length < cap) return { store: true, marks: [...live, mark] };
  return refresh ? { store: true, marks: null } : { store: false };
}

/** Seconds from `now` (s) that an index must be kept: until its last mark ends. */
export function indexSeconds(marks: readonly VariantMark[], now: number): number {
  return Math.max(0, ...marks.map(([, until]) => until - now));
}
