/**
 * What every request is checked for before anything reads it, in one walk over its
 * fields (the walk is most of what this costs a hit).
 */
import { INTERNAL_HEADER_PREFIX } from "./headers";

/** Longest URL and largest header block we accept; past them a clear 4xx, before any work. */
const MAX_URL_BYTES = 8 * 1024;
const MAX_HEADER_BYTES = 32 * 1024;

/**
 * The request without the `x-edge-cache-*` fields a client sent (the same
 * object when it sent none, as almost every request does), so that no step can read
 * one as ours (ARCHITECTURE.md, invariant 4); and 414 or 431 (RFC 9110 §15.5.15,
 * RFC 6585 §5) when it is too large to handle safely, else null.
 */
export function inspectRequest(incoming: Request): { request: Request; tooLarge: { status: 414 | 431; message: string } | null } {
  let size = 0;
  let internal: string[] | null = null;
  // forEach, not the iterator: no [name, value] array per field on every request.
  incoming.headers.forEach((v, k) => {
    size += k.length + v.length + 4;
    if (k.startsWith(INTERNAL_HEADER_PREFIX)) (internal ??= []).push(k);
  });
  let request = incoming;
  if (internal !== null) {
    const headers = new Headers(incoming.headers);
    for (const name of internal as string[]) headers.delete(name);
    request = new Request(incoming, { headers });
  }
  if (incoming.url.length > MAX_URL_BYTES) return { request, tooLarge: { status: 414, message: `URI Too Long: at most ${MAX_URL_BYTES} bytes` } };
  if (size > MAX_HEADER_BYTES) {
    return { request, tooLarge: { status: 431, message: `Request Header Fields Too Large: at most ${MAX_HEADER_BYTES} bytes in all` } };
  }
  return { request, tooLarge: null };
}
