/**
 * A POST on a route that stores POST answers (policy/post-answer): sent to the origin
 * with its body like any pass; a successful one first clears what its URL stored
 * (RFC 9111 §4.4), then its answer, when it may stand for a GET of the URL, is stored
 * at the key that GET uses, through the one store step and its verdict.
 */
import { clientAcceptEncoding } from "../http/content-coding";
import type { CacheStatus } from "../http/cache-status";
import { fetchOrigin, noteSent, originUrl } from "../http/origin";
import { errorResponse, originFailure } from "../http/respond";
import { postAnswerReusable } from "../policy/post-answer";
import type { Ctx } from "./context";
import { deliverFromOrigin } from "./deliver";
import { answerOf, store, verdictFor } from "./store";

/** `url` is the normalized request URL (what the POST is sent to); `invalidate` clears the URL's stored answers. */
export async function postAndStore(c: Ctx, url: URL, invalidate: () => Promise<void>): Promise<Response> {
  const { deps, request } = c;
  const t0 = Date.now();
  const requestTime = deps.clock.now();
  noteSent(request);
  let res: Response;
  try {
    res = await fetchOrigin({ url: originUrl(c.rules.origin, url), method: request.method, headers: request.headers, body: request.body, timeoutMs: 100_000 }, deps.clock);
  } catch (err) {
    const failure = originFailure(err);
    return errorResponse(failure.status, failure.message, { fwd: "method", detail: "method", fwdStatus: failure.status });
  } finally {
    c.rec.time("origin", Date.now() - t0);
  }
  c.rec.originStatus = res.status;
  const responseTime = deps.clock.now();
  const options = { method: request.method, requestHeaders: request.headers, acceptEncoding: clientAcceptEncoding(request), browserTtl: null, cacheable: false };
  const passed = (status: CacheStatus) => deliverFromOrigin(res, { ...options, status });
  if (res.status >= 400) return passed({ fwd: "method", detail: "method" });
  // Cleared before storing, so what the invalidation deletes is never the answer stored below.
  await invalidate();
  if (!postAnswerReusable(url, res.status, res.headers, responseTime)) return passed({ fwd: "method", detail: "method" });
  const fetched = { res, requestTime, responseTime };
  const verdict = verdictFor(c, fetched, res.status, res.headers);
  const outcome = await store(c, verdict, c.route.tiers, answerOf(fetched), { index: null });
  if (!outcome.stored) return passed({ fwd: "method", detail: outcome.reason });
  return deliverFromOrigin(new Response(outcome.body, res), { ...options, status: { fwd: "method", stored: true, ttl: outcome.ttl } });
}
