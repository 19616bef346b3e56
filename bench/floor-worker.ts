/**
 * The Worker behind bench/floor.ts: three ways to answer a KV hit, side by side in
 * one workerd over one KV namespace, so that machine and process noise is common to
 * all three.
 *
 *   http://localhost:<port>/<path>   the seed KV Worker itself (bench/baselines/kv-worker.js):
 *                                    `get` by URL, one header
 *   /floor/<path>   the least a correct KV hit does: edge-cache's own entry read with
 *                   its metadata (`getWithMetadata`), answered with the stored status
 *                   and headers plus Age and Cache-Status; no rules, key, checks or counts
 *   /<path>         edge-cache itself (src/index.ts, RULES_JSON = bench/rules.bench.json)
 *
 * The seed is told apart by its host, so its URLs are the origin's, as in the bench. The
 * floor reads what edge-cache stored for the same path: fill it through edge-cache first.
 */
import { formatCacheStatus } from "../src/http/cache-status";
import { FieldList, headersInit } from "../src/http/field-list";
import type { WorkerEnv } from "../src/env";
import { createWorker } from "../src/index";
import { kvName } from "../src/tiers/kv";
import { freshness } from "../src/policy/freshness";
import type { ResponseMeta } from "../src/tiers/entry";
import { storageKey } from "../src/tiers/two-tier";
import seed from "./baselines/kv-worker.js";

export { Coordinator, Shield } from "../src/index";

interface FloorEnv extends WorkerEnv {
  ORIGIN: string;
}

const edgeCache = createWorker();

async function floor(url: URL, env: FloorEnv): Promise<Response> {
  // The key edge-cache gives a plain URL (scheme, host, path; the bench's URLs need no normalizing).
  const key = `${url.protocol}//${url.host}${url.pathname.slice("/floor".length)}${url.search}`;
  // The bench's entries fit KV's metadata (tiers/kv.ts `m`), so no envelope to open.
  const got = await env.CACHE_KV.getWithMetadata<{ m?: ResponseMeta }>(kvName(await storageKey(key, url.host)), { type: "stream" });
  const m = got.metadata?.m;
  if (!got.value || !m) return new Response(`no entry for ${key}: fill it through edge-cache first`, { status: 500 });
  const { age, ttl } = freshness(m.lifetimes, m.storedAt, Date.now());
  const fields: [string, string][] = [...m.headers, ["age", String(age)], ["cache-status", formatCacheStatus({ hit: true, ttl, detail: "kv" })]];
  return new Response(got.value, { status: m.status, headers: headersInit(new FieldList(fields)) });
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.hostname === "localhost") return seed.fetch!(request, env, ctx);
    if (url.pathname.startsWith("/floor/")) return floor(url, env);
    return edgeCache.fetch!(request, env, ctx);
  },
} satisfies ExportedHandler<FloorEnv>;
