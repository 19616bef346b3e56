/**
 * Header helpers shared by the origin request, storage and delivery.
 */

/** RFC 9110 §7.6.1: hop-by-hop fields, never forwarded in either direction, never stored. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** Our own headers: stripped from what comes in and from what goes out (ARCHITECTURE.md, invariant 4). */
export const INTERNAL_HEADER_PREFIX = "x-edge-cache-";

/** Removes hop-by-hop fields, the ones `Connection` names, and our internal headers. */
export function stripHopByHop(headers: Headers, keepUpgrade = false): Headers {
  const out = new Headers(headers);
  const named = (headers.get("connection") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const name of [...HOP_BY_HOP, ...named]) {
    if (keepUpgrade && (name === "upgrade" || name === "connection")) continue;
    out.delete(name);
  }
  for (const name of [...out.keys()]) {
    if (name.startsWith(INTERNAL_HEADER_PREFIX)) out.delete(name);
  }
  return out;
}

/** Content-Length as a number, or null when absent or malformed. */
export function declaredLength(headers: Headers): number | null {
  const v = headers.get("content-length");
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
}
