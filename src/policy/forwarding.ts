/**
 * Rule zero of a shared cache: whatever reaches the origin is either part of the key
 * or removed. An input the origin can see but the key ignores lets one client shape
 * the answer every other client gets (cache poisoning). Pure.
 */
import type { CompiledKey } from "../rules/types";
import { parseCookies } from "../http/fields";
import { withDimensionHeaders, type Dimensions } from "./dimensions";

/**
 * Request headers that origins and frameworks commonly use to build URLs, redirects,
 * links or to change the method. Unkeyed, they are the classic poisoning vectors
 * (e.g. an X-Forwarded-Host that ends up in every link of a cached page), so on the
 * cache path they are removed unless the route keys on them.
 */
const UNKEYED_DANGEROUS_HEADERS: readonly string[] = [
  // the forwarded-host family
  "forwarded",
  "x-forwarded-host",
  "x-forwarded-server",
  "x-forwarded-port",
  "x-forwarded-proto",
  "x-forwarded-scheme",
  "x-forwarded-prefix",
  "x-forwarded-ssl",
  "x-forwarded-path",
  "x-forwarded-uri",
  "x-host",
  "x-http-host-override",
  "x-original-host",
  "front-end-https",
  "x-url-scheme",
  // the original-URL family (IIS, Symfony, Zend and others rewrite the path from these)
  "x-original-url",
  "x-rewrite-url",
  "x-original-uri",
  "x-override-url",
  // the method-override family
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "x-original-method",
];

/**
 * The request headers the origin gets for a cacheable request: the dangerous
 * families and every unkeyed cookie removed. Cookies the route keys on are kept;
 * cookies that should reach the origin belong in `bypass.cookies` or `key.cookies`.
 * The key's dimensions replace what the client sent under their headers; a client's
 * own CF-Device-Type is dropped unless the route keys on it, as an origin built for
 * device caching would believe it.
 */
export function forwardHeaders(headers: Headers, key: CompiledKey, dimensions: Dimensions = {}): Headers {
  const out = new Headers(headers);
  for (const name of UNKEYED_DANGEROUS_HEADERS) {
    if (!key.headers.includes(name)) out.delete(name);
  }
  if (!key.headers.includes("cf-device-type")) out.delete("cf-device-type");
  withDimensionHeaders(out, dimensions);
  if (!key.headers.includes("cookie")) {
    const cookies = parseCookies(headers.get("cookie"));
    const kept = key.cookies.filter((name) => cookies.has(name)).map((name) => `${name}=${cookies.get(name)}`);
    if (kept.length) out.set("cookie", kept.join("; "));
    else out.delete("cookie");
  }
  return out;
}

/** Request fields the cache answers itself from the whole entry; the origin never sees the client's. */
const CLIENT_CONDITIONALS = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"];

/**
 * Exactly the headers a cacheable request's origin fetch carries (before any
 * validators of ours). Vary selects on these too (RFC 9111 §4.1 compares the request
 * the stored response answered): keyed on the client's raw headers, every random
 * cookie the origin never saw would be one more variant, filling `maxVariants`.
 */
export function originRequestHeaders(headers: Headers, key: CompiledKey, dimensions: Dimensions = {}): Headers {
  const out = forwardHeaders(headers, key, dimensions);
  for (const name of CLIENT_CONDITIONALS) out.delete(name);
  return out;
}
