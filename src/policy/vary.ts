/**
 * Secondary cache keys from a stored response's Vary (RFC 9111 §4.1). The Cache API
 * ignores Vary for our entries, so we do it: one entry per variant, at a key made of
 * the primary key and the request's values of the named headers. Pure.
 */

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
 * §4.1: a stored response matches when each named header has the same value in both
 * requests; an absent header is not the same as an empty one (`null` vs `""`).
 * Values are compared after folding whitespace, a normalization §4.1 allows.
 */
export function variantKey(primary: string, epoch: number, names: readonly string[], requestHeaders: Headers): string {
  const dims = names.map((name) => {
    const raw = requestHeaders.get(name);
    if (raw === null) return [name, null];
    const value = name === "accept-encoding" ? acceptEncodingBucket(raw) : raw.replace(/\s+/g, " ").trim();
    return [name, value];
  });
  return `${primary}\nvary@${epoch}:${JSON.stringify(dims)}`;
}
