/**
 * A URL as the statistics keep it: no credentials, no fragment, and no values for
 * query parameters the route's key drops (they are tracking noise and may be
 * personal) or whose name looks like a secret. Cookies never reach here. Every URL the
 * statistics keep (counters, Analytics Engine, the traffic sample) goes through here
 * with the request's route; `null` is for a request no route matched (no key: only
 * secret-looking values go). Pure.
 */
import type { CompiledRoute } from "../rules/types";

/** Parameter names whose values may be credentials, whatever the rules say. */
const SECRET_NAME = /token|auth|pass|secret|key|session|sig|credential|code/i;

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

export function cleanUrl(url: URL, route: CompiledRoute | null): string {
  const base = `${url.protocol}//${url.host}${url.pathname}`;
  const search = url.search.slice(1);
  if (!search) return base;
  const query = route?.key.query;
  const pairs = search.split("&").filter(Boolean).map((pair) => {
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decodeName(rawName);
    const dropped = query ? (query.mode === "ignore" ? query.names.test(name) : !query.names.test(name)) : false;
    return dropped || SECRET_NAME.test(name) ? rawName : pair;
  });
  return pairs.length ? `${base}?${pairs.join("&")}` : base;
}
