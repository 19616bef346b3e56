/**
 * The rules for a 304 answer to our own conditional request (RFC 9111 §4.3.3, §4.3.4):
 * which conditionals we send, when the 304 may refresh the stored response, and what
 * it changes. Pure; the foreground revalidation and the background refresh both use it.
 */

/** §4.3.1: the stored validators, as request conditionals. */
export function validatorsOf(stored: Headers): [string, string][] {
  const out: [string, string][] = [];
  const etag = stored.get("etag");
  const lm = stored.get("last-modified");
  if (etag) out.push(["if-none-match", etag]);
  if (lm) out.push(["if-modified-since", lm]);
  return out;
}

/**
 * §4.3.4: fields a 304 never updates. They frame the stored body, which a 304 does not
 * carry: its length, its coding, its transfer framing, and which bytes of the whole it is
 * (a 304's Content-Length is that of no body, or of the 200 it stands for, never ours to trust).
 */
const EXCLUDED_FROM_UPDATE: ReadonlySet<string> = new Set(["content-length", "content-encoding", "transfer-encoding", "content-range"]);

const opaque = (etag: string) => etag.trim().replace(/^W\//, "");
const isWeak = (etag: string) => etag.trim().startsWith("W/");

/**
 * A weak stored ETag that is the origin's own strong one weakened because it encoded
 * the body (nginx and Apache do so for what they compress on the fly, RFC 9110 §8.8.1):
 * its 304s carry the strong tag, since a 304 has no body to encode.
 */
const weakenedByCoding = (stored: Headers, storedEtag: string) => isWeak(storedEtag) && stored.has("content-encoding");

/**
 * §4.3.4: a 304 refreshes the stored response only when we asked with its validators
 * and the validators the 304 carries select it: a strong ETag must equal the stored
 * one (strong comparison), a weak one must match it weakly, and without an ETag a
 * Last-Modified must equal the stored one. A 304 that carries no validator selects
 * the one response we hold for this key (the variant we asked about). One leniency:
 * a strong ETag selects the encoded response it was weakened for (`weakenedByCoding`),
 * or every revalidation of a page compressed on the fly would fetch it whole.
 */
export function acceptsNotModified(sent: readonly [string, string][], stored: Headers, notModified: Headers): boolean {
  if (sent.length === 0) return false;
  const etag = notModified.get("etag");
  const storedEtag = stored.get("etag");
  if (etag !== null && storedEtag !== null) {
    if (!isWeak(etag)) return (!isWeak(storedEtag) || weakenedByCoding(stored, storedEtag)) && opaque(etag) === opaque(storedEtag);
    return opaque(etag) === opaque(storedEtag);
  }
  if (etag !== null) return false;
  const lm = notModified.get("last-modified");
  const storedLm = stored.get("last-modified");
  return lm === null || storedLm === null || lm.trim() === storedLm.trim();
}

/**
 * §4.3.4: the stored fields with the 304's fields (all but the excluded ones) replacing
 * them. A weakened ETag stays weak: the strong one names other bytes than ours.
 */
export function updatedHeaders(stored: Headers, notModified: Headers): Headers {
  const headers = new Headers(stored);
  const storedEtag = stored.get("etag");
  const keepEtag = storedEtag !== null && weakenedByCoding(stored, storedEtag);
  for (const [k, v] of notModified) if (!EXCLUDED_FROM_UPDATE.has(k) && !(keepEtag && k === "etag")) headers.set(k, v);
  return headers;
}
