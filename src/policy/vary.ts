/**
 * Secondary cache keys from a stored response's Vary (RFC 9111 §4.1). The Cache API
 * ignores Vary for our entries, so we do it: one entry per variant, at a key made of
 * the primary key and the request's values of the named headers. Pure.
 */
import { normalizeAcceptLanguage } from "./accept-language";
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
 * Request fields whose value is a comma-separated list (RFC 9110 §5.6.1): the
 * whitespace around members and empty members carry no meaning.
 */
const LIST_FIELDS: ReadonlySet<string> = new Set([
  "accept", "accept-charset", "accept-encoding", "accept-language", "access-control-request-headers", "cache-control",
  "connection", "expect", "forwarded", "if-match", "if-none-match", "pragma", "prefer", "te", "upgrade", "via",
]);

/**
 * A selecting header's value as it is matched and keyed (§4.1 allows normalizing
 * what does not change the meaning): Accept-Encoding by bucket, Accept-Language in
 * its canonical spelling, a list without the whitespace around its members, any
 * other value with its whitespace folded.
 */
export function selectingValue(name: string, raw: string): string {
  if (name === "accept-encoding") return acceptEncodingBucket(raw);
  const folded = raw.replace(/\s+/g, " ").trim();
  if (name === "accept-language") {
    const canonical = normalizeAcceptLanguage(folded);
    if (canonical !== null) return canonical;
  }
  return LIST_FIELDS.has(name) ? splitList(folded).join(", ") : folded;
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
