/**
 * Reading the rest of a request body we will not use, before an early answer (401,
 * 413, 429, 405, ...). Cancelling it instead leaves the upload half-read on the
 * connection: under `wrangler dev` the proxy in front of the Worker then stalls the
 * next request or answers it 503, and any HTTP/1.1 peer that is still sending sees
 * the connection reset instead of our answer. Reading to the end and dropping each
 * chunk holds one chunk at a time (RFC 9112 §9.6: a server reads on before it closes,
 * so the client gets to read the response). Bounded: past `maxBytes` it cancels.
 */

/** Past this much, an unwanted upload is cancelled rather than read; Cloudflare's own request limit is 100 MB. */
export const DISCARD_MAX_BYTES = 32 * 1024 * 1024;

/** Reads and drops what is left of `body` (up to `maxBytes` more), then releases it; never throws. */
export async function discardBody(
  body: ReadableStream<Uint8Array> | ReadableStreamDefaultReader<Uint8Array> | null,
  maxBytes = DISCARD_MAX_BYTES,
): Promise<void> {
  if (!body) return;
  if ("getReader" in body && body.locked) return;
  const reader = "getReader" in body ? body.getReader() : body;
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > maxBytes) break;
    }
  } catch {
    return;
  }
  await reader.cancel().catch(() => {});
}
