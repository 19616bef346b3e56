/**
 * Baseline: the minimal cache-aside Worker of the Workers KV tutorials: `get` by the
 * request URL; on a miss fetch the origin, read the whole body, answer with it and
 * `put` it with an `expirationTtl`. The read is a stream and the write is left to
 * `ctx.waitUntil`, the faster of the variants the tutorials show, so the baseline is
 * not slowed by choices edge-cache does not make.
 *
 * Changes to run it locally: the origin is `env.ORIGIN` (not the request's own host,
 * which here is this Worker) and the TTL is `env.TTL` (KV's minimum is 60 s).
 */
export default {
  async fetch(request, env, ctx) {
    const key = request.url;
    const cached = await env.CACHE_KV.get(key, { type: "stream" });
    if (cached) {
      return new Response(cached, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    const url = new URL(request.url);
    const response = await fetch(new URL(url.pathname + url.search, env.ORIGIN), request);
    const body = await response.arrayBuffer();
    if (response.ok) {
      ctx.waitUntil(env.CACHE_KV.put(key, body, { expirationTtl: Number(env.TTL ?? "3600") }));
    }
    return new Response(body, response);
  },
};
