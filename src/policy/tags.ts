/**
 * Purge tags an origin attaches to a response. Cloudflare strips `Cache-Tag` before
 * a Worker sees the answer, so origins send them as `X-Cache-Tag` (comma-separated,
 * Cloudflare's convention) or `Surrogate-Key` (space-separated, Fastly's).
 */

/** Most tags kept per response, and longest tag: both bound what an origin can make us store. */
export const MAX_TAGS = 64;
export const MAX_TAG_LENGTH = 128;

export function responseTags(headers: Headers): string[] {
  const raw = [
    ...(headers.get("x-cache-tag") ?? "").split(","),
    ...(headers.get("surrogate-key") ?? "").split(/\s+/),
  ];
  const tags = new Set<string>();
  for (const t of raw) {
    const tag = t.trim();
    if (tag && tag.length <= MAX_TAG_LENGTH && tags.size < MAX_TAGS) tags.add(tag);
  }
  return [...tags];
}

/**
 * The `Cache-Tag` value for what we put into the Cache API, so that a purge by tag
 * through Cloudflare's API (src/purge/cloudflare.ts) also clears the zone's Cache API
 * copies in every location at once. Cloudflare splits the value at commas, so a tag
 * holding one cannot be named there and is left out (our own purge records still
 * cover it). 64 tags of at most 128 characters stay under Cloudflare's 16 KB header.
 */
export function cacheTagValue(tags: readonly string[]): string | null {
  const named = tags.filter((t) => !t.includes(","));
  return named.length > 0 ? named.join(",") : null;
}
