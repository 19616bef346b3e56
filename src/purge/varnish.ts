/**
 * A `PURGE` request in the Varnish convention that CMS plugins speak, turned into
 * the same purge `POST /.edge-cache/purge` takes. Pure.
 *
 *   PURGE /page                              that URL (http and https), every variant of it
 *   PURGE /blog/*                            every URL under the prefix /blog/
 *   PURGE /.*  + X-Purge-Method: regex       a pattern over path and query, as its literal prefix (pattern.ts)
 *   PURGE /    + X-Purge-Tags: a, b          those tags (or Surrogate-Key: a b)
 *   + X-Purge-Soft: 1                        soft: mark stale instead of removing
 */
import { checkPattern } from "./pattern";
import { parsePurgeRequest, type ParsedPurge } from "./request";

export function parseVarnishPurge(url: URL, headers: Headers): ParsedPurge {
  const fail = (message: string): ParsedPurge => ({ ok: false, message });
  const softHeader = headers.get("x-purge-soft")?.trim().toLowerCase();
  if (softHeader !== undefined && !["0", "1", "true", "false"].includes(softHeader)) {
    return fail(`X-Purge-Soft must be 1 or 0, got ${JSON.stringify(softHeader)}`);
  }
  const soft = softHeader === "1" || softHeader === "true";
  const tagHeader = headers.get("x-purge-tags") ?? headers.get("surrogate-key");
  if (tagHeader !== null) {
    const tags = tagHeader.split(/[\s,]+/).filter(Boolean);
    if (tags.length === 0) return fail("X-Purge-Tags names no tag: write X-Purge-Tags: tag-a, tag-b");
    return parsePurgeRequest({ tags, soft }, url);
  }
  const method = (headers.get("x-purge-method") ?? "default").trim().toLowerCase();
  if (method === "regex") {
    let pattern: string;
    try {
      // The pattern arrives percent-encoded in the request line (^, |, [ ...): the regex is the decoded text.
      pattern = decodeURIComponent(`${url.pathname}${url.search}`);
    } catch {
      return fail("the pattern in the URL is not valid percent-encoding");
    }
    // A request target starts with "/": the pattern is read from the start of the path, as plugins mean it.
    const checked = checkPattern(`^${pattern}`);
    if (!checked.ok) return fail(`X-Purge-Method: regex: the pattern is not accepted (${checked.message}): ${JSON.stringify(pattern)}`);
    // Purged as its literal prefix (pattern.ts): at least every URL the pattern matches.
    return parsePurgeRequest({ prefixes: [`${url.origin}${checked.prefix.startsWith("/") ? checked.prefix : "/"}`], soft }, url);
  }
  if (method !== "default" && method !== "exact" && method !== "url") {
    return fail(`X-Purge-Method must be regex (or absent, default or exact), got ${JSON.stringify(method)}`);
  }
  if (url.pathname.endsWith("*") && url.search === "") {
    return parsePurgeRequest({ prefixes: [url.href.slice(0, -1)], soft }, url);
  }
  // Plugins send their PURGE over http:// by default (Varnish listens there) while the
  // site is served over https: the URL is purged in both schemes.
  const other = new URL(url);
  other.protocol = url.protocol === "https:" ? "http:" : "https:";
  return parsePurgeRequest({ urls: [url.href, other.href], soft }, url);
}
