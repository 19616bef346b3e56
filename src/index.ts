/**
 * The Worker entry: admin paths to the admin API, everything else through the proxy.
 * `createWorker` takes the seams tests need (a clock, rules, a log); the default
 * export is the production wiring.
 */
import { activeRules } from "./active-rules";
import { adminPath } from "./admin/prefix";
import { systemClock, type Clock } from "./clock";
import { createCollapser } from "./collapse";
import { originUrl } from "./origin";
import { createProxy } from "./proxy";
import { errorResponse, jsonResponse, requestTooLarge } from "./respond";
import type { CompiledRules } from "./rules/types";
import { edgeTier } from "./tiers/edge";
import { kvTier } from "./tiers/kv";
import { appendCacheStatus } from "./cache-status";
import type { WorkerEnv } from "./env";

export interface WorkerOptions {
  /** Time and timers. */
  clock?: Clock;
  /** Rules to run instead of the configured ones. */
  rules?: CompiledRules;
  /** Where per-request JSON log lines go. */
  log?: (line: Record<string, unknown>) => void;
  /** Thin wrappers around the bindings, for fault injection in tests. */
  wrapKv?: (kv: KVNamespace) => KVNamespace;
  wrapCache?: (cache: Cache) => Cache;
}

export function createWorker(options: WorkerOptions = {}): ExportedHandler<WorkerEnv> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line) => console.log(JSON.stringify(line)));
  // Per isolate: the collapsing table must be shared by all requests the isolate serves.
  const collapser = createCollapser(clock);
  let proxy: ReturnType<typeof createProxy> | null = null;

  return {
    async fetch(request, env, ctx) {
      const tooLarge = requestTooLarge(request);
      if (tooLarge) return errorResponse(tooLarge.status, tooLarge.message, { fwd: "bypass", detail: "too-large" });
      const url = new URL(request.url);
      if (adminPath(url.pathname) !== null) {
        return jsonResponse({ error: "not found", message: "The admin API is not enabled in this build." }, 404);
      }
      const rules = () => options.rules ?? activeRules(env);
      proxy ??= createProxy({
        rules,
        tiers: {
          edge: edgeTier(options.wrapCache ? options.wrapCache(caches.default) : caches.default),
          kv: kvTier(options.wrapKv ? options.wrapKv(env.CACHE_KV) : env.CACHE_KV, clock),
        },
        collapser,
        clock,
        log,
      });
      try {
        return await proxy(request, ctx);
      } catch (err) {
        // A bug of ours must not take the site down: go to the origin as if we were not here.
        console.error(JSON.stringify({ msg: "proxy-error", error: err instanceof Error ? err.stack : String(err) }));
        try {
          const res = await fetch(originUrl((await rules()).origin, url), request);
          const headers = new Headers(res.headers);
          appendCacheStatus(headers, { fwd: "bypass", detail: "error" });
          return new Response(res.body, { status: res.status, headers });
        } catch {
          return errorResponse(502, "Bad Gateway: the origin could not be reached", { fwd: "bypass", detail: "error" });
        }
      }
    },
  };
}

export default createWorker();
