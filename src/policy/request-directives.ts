/**
 * Request Cache-Control (RFC 9111 §5.2.1). Honoured only when a route says so: left
 * on for everyone, `no-cache` would let any client send every request to the origin.
 */
import { deltaSeconds, parseDirectives } from "./cache-control";

/** The client asks us not to use a stored response without validating it (§5.2.1.4, §5.2.1.1, §5.4 Pragma). */
export function requestWantsValidation(headers: Headers): boolean {
  const cc = headers.get("cache-control");
  if (cc === null) return /(^|,)\s*no-cache\s*(,|$)/i.test(headers.get("pragma") ?? "");
  const d = parseDirectives(cc);
  return d.has("no-cache") || deltaSeconds(d, "max-age") === 0;
}
