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
