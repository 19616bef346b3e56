/**
 * Whether a response may be stored at all, as one small named check per reason
 * (the way bypass.ts does requests), tried in order; the first reason wins and goes
 * into Cache-Status `detail`. Positive proof only: a check that cannot tell refuses.
 * How long a stored response stays fresh is lifetime.ts's business. Pure.
 */
import type { CompiledRoute } from "../rules/types";
import { parseDirectives, type Directives } from "./cache-control";
import { deceptive } from "./deception";
import { HEURISTIC_STATUSES, type Lifetime, type LifetimeFacts } from "./lifetime";

export type NoStoreReason =
  | "no-store"
  | "private"
  | "set-cookie"
  | "vary-star"
  | "cors-origin"
  | "status"
  | "must-understand"
  | "no-freshness"
  | "ttl-zero"
  | "authorization"
  | "request-no-store"
  | "deception";

export interface ResponseFacts extends LifetimeFacts {
  /** When the request was sent, ms since epoch. */
  requestTime: number;
  /** The request carried Authorization (§3.5). */
  authorized: boolean;
  /** The request the response answers, for the checks that depend on it. */
  request?: { headers: Headers; path: string };
}

export interface CheckInput {
  route: CompiledRoute;
  facts: ResponseFacts;
  /** The governing directives (RFC 9213 §2.1). */
  directives: Directives;
  /** The origin's explicit lifetime (§4.2.1), or null. */
  explicit: Lifetime | null;
  /** The route's TTL for this status, or null. */
  ruleForStatus: number | null;
}

type NoStoreCheck = (input: CheckInput) => NoStoreReason | null;

/**
 * Final statuses whose requirements we implement (RFC 9110 §15), for must-understand
 * (§5.2.2.3). 206 and 304 are understood but never stored (see `statusCode`).
 */
const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
  500, 501, 502, 503, 504, 505,
]);

const understood = ({ facts, directives }: CheckInput) =>
  directives.has("must-understand") && UNDERSTOOD_STATUSES.has(facts.status);

export const NO_STORE_CHECKS: readonly NoStoreCheck[] = [
  function requestNoStore({ facts }) {
    // §5.2.1.5: a request's no-store forbids storing its response.
    return facts.request && parseDirectives(facts.request.headers.get("cache-control")).has("no-store") ? "request-no-store" : null;
  },
  function mustUnderstand(input) {
    // §5.2.2.3: only a cache that understands the status code may store it.
    return input.directives.has("must-understand") && !understood(input) ? "must-understand" : null;
  },
  function noStore(input) {
    // §5.2.2.5, whatever a rule says; beside must-understand it is meant for caches that
    // do not understand the status (§5.2.2.3), and we do.
    return input.directives.has("no-store") && !understood(input) ? "no-store" : null;
  },
  function privateDirective({ directives }) {
    // §5.2.2.7; a qualified private="field" is read as unqualified: the safe reading.
    return directives.has("private") ? "private" : null;
  },
  function varyStar({ facts }) {
    // §4.1: Vary: * never matches a later request.
    const vary = facts.headers.get("vary");
    return vary !== null && vary.split(",").some((v) => v.trim() === "*") ? "vary-star" : null;
  },
  function corsOneOrigin({ facts }) {
    // Fetch standard §3.2.5: an Access-Control-Allow-Origin that names one origin (an
    // origin reflecting the request's Origin) is that origin's answer. Without
    // `Vary: Origin` a stored copy would grant it to every other origin, or refuse
    // them all; with it, the variant machinery keys on Origin as the origin asked.
    // We do not add the Vary ourselves: the origin did not ask for it, downstream
    // caches would not see it, and every Origin value a client invents would be one
    // more variant (filling maxVariants). Not storing costs only these answers' hits.
    const allow = facts.headers.get("access-control-allow-origin");
    if (allow === null || allow.trim() === "*") return null;
    const vary = (facts.headers.get("vary") ?? "").split(",").map((v) => v.trim().toLowerCase());
    return vary.includes("origin") ? null : "cors-origin";
  },
  function setCookie({ route, facts }) {
    // Set-Cookie would hand one user's session to the next (ARCHITECTURE.md, invariant 1).
    return facts.headers.has("set-cookie") && !route.stripSetCookie ? "set-cookie" : null;
  },
  function authorization({ facts, directives }) {
    // §3.5: an answer to an authorized request is stored only when the origin says it is
    // shared. (By default the rules bypass such requests before they get here.)
    if (!facts.authorized) return null;
    return directives.has("public") || directives.has("s-maxage") || directives.has("must-revalidate") ? null : "authorization";
  },
  function statusCode({ facts, directives, explicit, ruleForStatus }) {
    const { status } = facts;
    // §3: final statuses only; a 206 or a 304 is not the whole representation (§3.3, §4.3.4).
    if (status < 200 || status === 206 || status === 304) return "status";
    if (ruleForStatus !== null) return ruleForStatus > 0 ? null : "ttl-zero";
    // §3: any final status with explicit freshness; otherwise heuristically cacheable
    // (§4.2.2) or marked public.
    return explicit !== null || HEURISTIC_STATUSES.has(status) || directives.has("public") ? null : "status";
  },
  function deception({ facts }) {
    // A static-looking path answered with a page (`/account/x.css`): never stored.
    return facts.request && deceptive(facts.request.path, facts.headers.get("content-type")) ? "deception" : null;
  },
];

/** The first reason this response must not be stored, or null. */
export function noStoreReason(input: CheckInput): NoStoreReason | null {
  for (const check of NO_STORE_CHECKS) {
    const reason = check(input);
    if (reason) return reason;
  }
  return null;
}
