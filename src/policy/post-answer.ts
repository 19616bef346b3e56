/**
 * A POST answer kept for later GETs of its URL (RFC 9110 §9.3.3, RFC 9111 §4), on
 * routes that opt in (`storePostAnswers`). Pure.
 *
 * The request body is never part of the key, and that is safe only because of
 * Content-Location: an answer whose Content-Location is the target URI says that
 * its content is a representation of the target resource itself (RFC 9110 §8.7),
 * what a GET of it returns now, not the result of processing this body (search
 * results for a posted query, a confirmation for one order). Without that
 * assertion, keying the answer without the body would hand one client's result to
 * everybody who GETs the URL.
 */
import type { CompiledRoute, CompiledRules } from "../rules/types";
import { bypassVerdict } from "./bypass";
import { governingDirectives } from "./cache-control";
import { normalizeUrl } from "./cache-key";
import { invalidationRoute } from "./invalidation";
import { explicitLifetime } from "./lifetime";

/**
 * Whether a POST to `url` (normalized) may have its answer stored: its route opts in,
 * is the very route a GET of the URL takes (whose key and tiers the entry uses), and
 * would neither bypass a GET with these headers (Authorization, a listed cookie,
 * header or query, an ambiguous path) nor skip a GET (`bypass.methods`).
 */
export function storesPostAnswer(rules: CompiledRules, route: CompiledRoute, url: URL, headers: Headers, rawPath: string): boolean {
  if (!route.storePostAnswers || invalidationRoute(rules, url) !== route) return false;
  // The POST's own body is what the bypass's body check is for; the GET has none.
  const asGet = new Headers(headers);
  asGet.delete("content-length");
  asGet.delete("transfer-encoding");
  return bypassVerdict(route, "GET", url, asGet, rawPath) === null;
}

/**
 * Whether the answer itself may stand for a GET of `url`: a 200 with explicit
 * freshness (RFC 9110 §9.3.3: "only cacheable when they include explicit freshness
 * information"; a rule's TTL is not the origin saying so) and a Content-Location that
 * resolves to `url`. Whether it may be stored at all is then the store verdict's, as
 * for any answer (private, no-store, Set-Cookie...).
 */
export function postAnswerReusable(url: URL, status: number, headers: Headers, responseTime: number): boolean {
  if (status !== 200) return false;
  const location = headers.get("content-location");
  if (location === null || !sameResource(location, url)) return false;
  const { directives, field } = governingDirectives(headers);
  const explicit = explicitLifetime({ facts: { status, headers, responseTime }, directives, field });
  return explicit !== null && explicit.seconds > 0;
}

function sameResource(location: string, url: URL): boolean {
  try {
    return normalizeUrl(new URL(location.trim(), url)).href === url.href;
  } catch {
    return false;
  }
}
