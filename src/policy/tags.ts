/**
 * Purge tags an origin attaches to a response. Cloudflare strips `Cache-Tag` before
 * a Worker sees the answer, so origins send them as `X-Cache-Tag` (comma-separated,
 * Cloudflare's convention) or `Surrogate-Key` (space-separated, Fastly's).
 */

/** Most tags kept per response, and longest tag: both bound what an origin can make us store. */
export const MAX_TAGS = 64;
export const MAX_TAG_LENGTH = 128;
/** Dropped tags named in one report, and how much of each. */
const REPORTED_TAGS = 8;
const REPORTED_LENGTH = 64;

export type TagProblem = { kind: "empty" | "separator" | "too-long" } | { kind: "not-ascii"; char: string };

/**
 * Why `tag` is not a tag, or null. A tag is 1 to 128 visible ASCII characters
 * (0x21-0x7E) without a comma: what Cloudflare's `Cache-Tag` takes (it splits at
 * commas), and what the entry's headers can carry (a character outside Latin-1 makes
 * the runtime refuse the header, and the whole edge write with it).
 */
export function tagProblem(tag: string): TagProblem | null {
  if (tag === "") return { kind: "empty" };
  if (/[\s,]/.test(tag)) return { kind: "separator" };
  if (tag.length > MAX_TAG_LENGTH) return { kind: "too-long" };
  const char = [...tag].find((ch) => !/^[\x21-\x7e]$/.test(ch));
  return char === undefined ? null : { kind: "not-ascii", char };
}

/**
 * The tags of an origin's answer. Values that are not tags (`tagProblem`) are dropped,
 * never stored, and handed to `onDropped` once per answer (the first few, shortened)
 * for the caller's log.
 */
export function responseTags(headers: Headers, onDropped?: (tags: string[]) => void): string[] {
  const raw = [
    ...(headers.get("x-cache-tag") ?? "").split(","),
    ...(headers.get("surrogate-key") ?? "").split(/\s+/),
  ];
  const tags = new Set<string>();
  const dropped: string[] = [];
  for (const t of raw) {
    const tag = t.trim();
    if (tag === "") continue;
    if (tagProblem(tag) !== null) dropped.push(tag.length > REPORTED_LENGTH ? `${tag.slice(0, REPORTED_LENGTH)}…` : tag);
    else if (tags.size < MAX_TAGS) tags.add(tag);
  }
  if (dropped.length > 0) onDropped?.(dropped.slice(0, REPORTED_TAGS));
  return [...tags];
}

/**
 * The `Cache-Tag` value for what we put into the Cache API, so that a purge by tag
 * through Cloudflare's API (src/purge/cloudflare.ts) also clears the zone's Cache API
 * copies in every location at once. An entry stored before tags were checked may hold
 * one that is not a tag (a comma, which Cloudflare splits at; a character a header
 * cannot carry): it is left out (our own purge records still cover it). 64 tags of at
 * most 128 characters stay under Cloudflare's 16 KB header.
 */
export function cacheTagValue(tags: readonly string[]): string | null {
  const named = tags.filter((t) => tagProblem(t) === null);
  return named.length > 0 ? named.join(",") : null;
}
