/**
 * Content codings on the way out. The cache keeps an answer's bytes exactly as the
 * origin sent them: a `Content-Encoding: gzip` answer stays compressed in both tiers
 * (small KV values, and its Content-Length and strong ETag stay true) and is delivered
 * as those bytes (`encodeBody: "manual"`, ARCHITECTURE.md "Content codings"). Only a
 * client that does not accept the coding gets it decoded here, as nginx's gunzip and
 * Varnish do.
 */

/**
 * The Accept-Encoding of the client itself. On Cloudflare (and under `wrangler dev`)
 * the Worker sees a normalized `br, gzip` for every client, and the client's own field
 * in `request.cf.clientAcceptEncoding` (empty when it sent none).
 */
export function clientAcceptEncoding(request: Request): string | null {
  const own = (request.cf as { clientAcceptEncoding?: unknown } | undefined)?.clientAcceptEncoding;
  if (typeof own === "string") return own === "" ? null : own;
  return request.headers.get("accept-encoding");
}

/** Codings this runtime can decode (`DecompressionStream`), by their RFC 9110 §8.4.1 names. */
const DECODABLE: Readonly<Record<string, "gzip" | "deflate">> = { gzip: "gzip", "x-gzip": "gzip", deflate: "deflate" };

/**
 * RFC 9110 §12.5.3: whether `coding` is acceptable to a request with this
 * Accept-Encoding. Codings are case-insensitive, `x-gzip` is `gzip` (§8.4.1.3), `*`
 * stands for any coding not listed, and `q=0` means "not acceptable". Without the
 * field any coding is acceptable by the RFC; like nginx and Varnish we send such a
 * client (curl, scripts, old proxies) the identity, so only an explicit "yes" counts.
 */
export function acceptsCoding(acceptEncoding: string | null, coding: string): boolean {
  if (acceptEncoding === null) return false;
  const want = canonical(coding);
  let star: boolean | null = null;
  for (const member of acceptEncoding.split(",")) {
    const [name, ...params] = member.split(";").map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith("q="));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (canonical(name) === want) return ok;
    if (name === "*") star = ok;
  }
  return star ?? false;
}

const canonical = (coding: string) => (coding.trim().toLowerCase() === "x-gzip" ? "gzip" : coding.trim().toLowerCase());

/** The one coding of a `Content-Encoding` value, or null for none/identity; several codings stay as they are (a list). */
export function contentCoding(value: string | null): string | null {
  const v = value?.trim().toLowerCase() ?? "";
  return v === "" || v === "identity" ? null : v;
}

/**
 * What to do with a body of `coding` for this client: send it as it is, or decode it
 * (with the stream to decode through). A coding we cannot decode (br, zstd, a list) goes
 * as it is: on Cloudflare the front line decodes it for a client that cannot take it.
 */
export function decoderFor(coding: string | null, acceptEncoding: string | null): DecompressionStream | null {
  if (coding === null || acceptsCoding(acceptEncoding, coding)) return null;
  const format = DECODABLE[coding];
  return format ? new DecompressionStream(format) : null;
}

/**
 * RFC 9110 §8.8.1: a strong validator names exact bytes; the decoded body is other bytes
 * of the same resource, so its ETag is weak (as nginx does when it changes the coding).
 */
export function weakened(etag: string | null): string | null {
  if (etag === null || etag.startsWith("W/")) return etag;
  return `W/${etag}`;
}
