/**
 * Baseline: the minimal Worker of Cloudflare's "Using the Cache API" example, as
 * people copy it: match on the request, else fetch, add `s-maxage`, store with
 * `ctx.waitUntil(cache.put(...))`. Its per-request console.log lines are kept, as
 * in the example (edge-cache logs one JSON line per request too).
 *
 * Two changes, needed to run it locally and nothing else: the subrequest goes to
 * the bench origin (`env.ORIGIN`) instead of the request's own host (which here would
 * be this Worker again), and the example's `s-maxage=10` is `env.S_MAXAGE` so the
 * bench can choose it per case.
 */
export default {
  async fetch(request, env, ctx) {
    const cacheUrl = new URL(request.url);
    // Construct the cache key from the cache URL
    const cacheKey = new Request(cacheUrl.toString(), request);
    const cache = caches.default;

    // Check whether the value is already available in the cache
    let response = await cache.match(cacheKey);

    if (!response) {
      console.log(`Response for request url: ${request.url} not present in cache. Fetching and caching request.`);
      // If not in cache, get it from origin
      const target = new URL(cacheUrl.pathname + cacheUrl.search, env.ORIGIN);
      response = await fetch(new Request(target, request));

      // Must use Response constructor to inherit all of response's fields
      response = new Response(response.body, response);

      // Any changes made to the response here will be reflected in the cached value
      response.headers.append("Cache-Control", `s-maxage=${env.S_MAXAGE ?? "10"}`);

      ctx.waitUntil(cache.put(cacheKey, response.clone()));
    } else {
      console.log(`Cache hit for: ${request.url}.`);
    }
    return response;
  },
};
