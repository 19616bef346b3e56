/**
 * SHA-256 as lower-case hex: the fixed-length name of a long cache key, and the
 * version of a rules text. Pure (Web Crypto only).
 */

// Built once: this may run on every cacheable request.
const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

export async function sha256Hex(input: string | BufferSource): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", typeof input === "string" ? encoder.encode(input) : input));
  let hex = "";
  for (const b of digest) hex += HEX[b];
  return hex;
}
