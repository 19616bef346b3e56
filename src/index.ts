/**
 * The Worker entry: admin paths to the admin API, everything else through the proxy.
 * `createWorker` takes the seams tests need (a clock, rules, a log, bindings); the
 * default export is the production wiring.
 */
import { createRulesSource } from "./rules/active";
import { createAdmin } from "./admin/handle";
import { adminPath } from "./admin/prefix";
import { createPurgeMethod } from "./admin/purge-method";
import { normalizeUrl } from "./policy/cache-key";
import { systemClock, type Clock } from "./clock";
import { createCollapser } from "./pipeline/collapse";
import { discardBody } from "./http/discard";
import { createHealthStore } from "./pipeline/origin-gate";
import { createHitCounter } from "./pipeline/kv-admission";
import { createBuildWatch } from "./builds/watch";
import { wasSent } from "./http/origin";
import { createProxy, pass, type ProxyDeps } from "./pipeline/proxy";
import { Recorder } from "./pipeline/recorder";
import { createPurgeStore } from "./purge/state";
import { inspectRequest } from "./http/incoming";
import { errorResponse } from "./http/respond";
import type { CompiledRules } from "./rules/types";
import { edgeTier } from "./tiers/edge";
import { kvTier } from "./tiers/kv";
import type { WorkerEnv } from "./env";
import { countingWrites } from "./stats/kv-writes";
import { createIsolateStats } from "./stats/recorder";
import { statsFor, type StatsWrapper } from "./stats/client";
import { coordinatorFor, siteName, type CoordinatorWrapper } from "./coordinator/client";
import { locationStore } from "./coordinator/location-copy";
import { createSiteState, type SiteState } from "./coordinator/site-state";
import { createShieldClient, type ShieldWrapper } from "./shield/client";

export { Coordinator } from "./coordinator/object";
export { Shield } from "./shield/object";
export { Stats } from "./stats/object";

export interface WorkerOptions {
  /** Time and timers. */
  clock?: Clock;
  /** Rules to run instead of the configured ones (they win over RULES_JSON and KV). */
  rules?: CompiledRules;
  /** Where per-request and admin JSON log lines go. */
  log?: (line: Record<string, unknown>) => void;
  /** Thin wrappers around the bindings, for fault injection in tests. */
  wrapKv?: (kv: KVNamespace) => KVNamespace;
  wrapCache?: (cache: Cache) => Cache;
  /** Wraps each coordinator stub (delays, errors, restarts), as wrapKv does KV. */
  wrapCoordinator?: CoordinatorWrapper;
  /** Wraps each shield stub (errors, bodies cut short), likewise. */
  wrapShield?: ShieldWrapper;
  /** Wraps each statistics object stub (src/stats/client.ts), likewise. */
  wrapStats?: StatsWrapper;
  /**
   * The location (data centre) this instance stands for; default `request.cf.colo` of
   * its first request (an isolate runs in one). Tests give each location its own.
   */
  location?: string;
  /**
   * The Cache API namespace of this instance (`caches.open(name)`); default
   * `caches.default`. Tests give each instance its own to stand for a location.
   */
  cacheName?: string;
  /** Values that replace the bindings' (tests: ADMIN_TOKEN, CF_API_*, RULES_JSON). */
  env?: Partial<WorkerEnv>;
}

export function createWorker(options: WorkerOptions = {}): ExportedHandler<WorkerEnv> {
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const log = options.log ?? ((line) => console.log(JSON.stringify(line)));
  // Per isolate: the collapsing table, the rules and the purge records are shared by all its requests.
  const collapser = createCollapser(clock);
  const health = createHealthStore();
  const hits = createHitCounter();
  let wired: Promise<Awaited<ReturnType<typeof wire>>> | null = null;

  /** The isolate's wiring, made on its first request (bindings arrive with requests). */
  async function wire(bindings: WorkerEnv, first: Request) {
    const base: WorkerEnv = options.env ? { ...bindings, ...options.env } : bindings;
    const env: WorkerEnv = { ...base, CACHE_KV: options.wrapKv ? options.wrapKv(base.CACHE_KV) : base.CACHE_KV };
    const site = siteName(env);
    const coordinator = () => coordinatorFor(env, site, options.wrapCoordinator);
    const location = options.location ?? String(first.cf?.colo ?? "local");
    const objects = env.STATS && {
      site,
      location: () => statsFor(env.STATS, { site, location }, options.wrapStats),
      history: () => statsFor(env.STATS, { site, location: null }, options.wrapStats),
    };
    const stats = createIsolateStats({ now, analytics: env.ANALYTICS, objects, log });
    let shared: SiteState | null = null;
    const rulesSource = createRulesSource({ env, site, coordinator: env.COORDINATOR ? coordinator : undefined, shared: () => shared!, log, clock, fixed: options.rules });
    const cache = options.cacheName ? await caches.open(options.cacheName) : caches.default;
    shared = createSiteState({
      site,
      location,
      isolate: rulesSource.isolate,
      coordinator: env.COORDINATOR ? coordinator : undefined,
      copies: locationStore({ cache, host: new URL(first.url).host, site, log }),
      kv: env.CACHE_KV,
      clock,
      log,
      seed: () => rulesSource.seed(),
      report: (known) => rulesSource.report(known),
    });
    const tiers = {
      edge: edgeTier(options.wrapCache ? options.wrapCache(cache) : cache, log),
      kv: countingWrites(kvTier(env.CACHE_KV, clock, log), stats),
    };
    const purges = createPurgeStore({ site, coordinator, shared, clock, log });
    const deps: ProxyDeps = {
      rules: (background) => rulesSource.rules(background),
      tiers,
      collapser,
      clock,
      log,
      health,
      hits,
      builds: createBuildWatch({ site, coordinator, purges, clock, log }),
      // The shared state's table itself: one await on the hot path, not two.
      purges: { verdict: async (entry, url, background) => (await shared.get(background)).purges.verdict(entry, url) },
      stats,
      shield: createShieldClient({ namespace: env.SHIELD, wrap: options.wrapShield, clock, log }),
    };
    const proxy = createProxy(deps);
    const adminDeps = { rules: rulesSource, purges, tiers, now, log, stats };
    return { env, deps, proxy, rulesSource, admin: createAdmin(adminDeps), purgeMethod: createPurgeMethod(adminDeps) };
  }

  return {
    async fetch(incoming, bindings, ctx) {
      // Before anything reads it, not even the admin API: a client's x-edge-cache-* field is
      // never ours; its size is checked (below) once the admin paths, which bound their own, are out.
      const { request, tooLarge } = inspectRequest(incoming);
      const { env, deps, proxy, rulesSource, admin, purgeMethod } = await (wired ??= wire(bindings, request));
      const url = new URL(request.url);
      // Proxied requests refresh the rules as they read them; these two paths may not read them.
      const refreshRules = () => void rulesSource.rules((p) => ctx.waitUntil(p));
      // Before any rule or check: admin paths never reach the proxy, so never the origin or a cache.
      const adminRoute = adminPath(url.pathname);
      if (adminRoute !== null) {
        refreshRules();
        return admin(request, adminRoute, env);
      }
      // Varnish-style purges from CMS plugins: answered here, never passed to the origin.
      if (request.method === "PURGE") {
        refreshRules();
        return purgeMethod(request, env);
      }
      if (tooLarge) {
        await discardBody(request.body);
        return errorResponse(tooLarge.status, tooLarge.message, { fwd: "bypass", detail: "too-large" });
      }
      try {
        return await proxy(request, ctx, url);
      } catch (err) {
        // A bug of ours must not take the site down: go to the origin as a bypass would
        // (hop-by-hop and internal headers stripped, the timeout, no-store, manual
        // redirects), but only when nothing was sent yet and the body is still unread:
        // the same request never reaches the origin twice.
        const line = { msg: "proxy-error", error: err instanceof Error ? err.stack : String(err) };
        // The log seam may be what failed: then the line goes to stderr.
        try {
          log(line);
        } catch {
          console.error(JSON.stringify(line));
        }
        const status = { fwd: "bypass", detail: "error" } as const;
        if (wasSent(request) || request.bodyUsed) {
          await request.body?.cancel().catch(() => {});
          return errorResponse(502, "Bad Gateway: the request failed on our side after it was sent to the origin; it was not sent again", status);
        }
        try {
          return await pass(deps, request, await deps.rules(), normalizeUrl(url), new Recorder(), status);
        } catch {
          return errorResponse(502, "Bad Gateway: the origin could not be reached", status);
        }
      }
    },
  };
}

export default createWorker();
