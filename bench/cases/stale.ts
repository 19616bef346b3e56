/**
 * Case 6: stale under failure. Stale contenders (their own workerd, their own nginx
 * port) sit in front of an origin of their own; they are warmed early in the run with
 * short-lived entries (2 s; the KV baseline's shortest TTL is KV's minimum, 60 s).
 * Later that origin is stopped, the bench waits until every contender's entries are
 * past their lifetime, and sends N requests over the warm keys. An error is a non-2xx
 * answer or a failed request. edge-cache has staleIfError (bench rules, /stale/*);
 * nginx has proxy_cache_use_stale error; the seed workers have nothing of the kind.
 */
import { LABELS, startNginxContender, startWorkerContender, type Contender, type ContenderId } from "../contenders";
import { fetchOnce, replay, type HitTest } from "../load";
import { startOrigin, type BenchOrigin } from "../origin";
import { sleep } from "../stats";
import type { BenchContext } from "./context";

/** Seconds: the stale contenders' freshness lifetime (rule ttl.edge, s-maxage, origin max-age). */
const LIFETIME_S = 2;
/** KV's smallest expirationTtl: the KV baseline cannot expire sooner. */
const KV_MIN_TTL_S = 60;

export interface StaleSetup {
  origin: BenchOrigin;
  contenders: Contender[];
  keys: string[];
  warmedAt: number;
  warmHits: Partial<Record<ContenderId, number>>;
  close(): Promise<void>;
}

export interface StaleResult {
  errors: Partial<Record<ContenderId, number>>;
  /** Answers the contender marked as coming from its cache (stale). */
  fromCache: Partial<Record<ContenderId, number>>;
  statuses: Partial<Record<ContenderId, Record<string, number>>>;
  errorSamples: Partial<Record<ContenderId, string[]>>;
  requests: number;
  keys: number;
  /** Seconds between the last warm-up request and the first request with the origin down. */
  entryAgeSeconds: number;
  kvTtlElapsed: boolean;
  goal: string;
  met: boolean;
}

/** Marks "served from cache although the origin is down". */
const STALE_TESTS: Record<ContenderId, HitTest> = {
  "edge-cache": (h) => /fwd=stale/.test(String(h["cache-status"] ?? "")) || /;\s*hit\b/.test(String(h["cache-status"] ?? "")),
  "cache-api-worker": (h) => String(h["cf-cache-status"] ?? "").toUpperCase() === "HIT",
  "kv-worker": () => false,
  nginx: (h) => /^(STALE|HIT|UPDATING)$/.test(String(h["x-cache-status"] ?? "")),
};

export async function prepareStale(ctx: BenchContext): Promise<StaleSetup> {
  const { keys: nKeys } = ctx.config.stale;
  const origin = await startOrigin({ staleMaxAge: LIFETIME_S });
  const contenders: Contender[] = [];
  try {
    for (const id of ["edge-cache", "cache-api-worker", "kv-worker"] as const) {
      contenders.push(await startWorkerContender(id, ctx.build, origin.url, { sMaxAge: LIFETIME_S, kvTtl: KV_MIN_TTL_S }, "-stale"));
    }
    if (ctx.config.nginx && ctx.contenders.nginx) {
      const n = await startNginxContender(origin.url);
      if (n) contenders.push(n);
    }
    const keys = Array.from({ length: nKeys }, (_, i) => `/stale/${i}`);
    for (const c of contenders) for (const k of keys) await fetchOnce(c.url, k, 30_000);
    await sleep(500);
    const warmHits: Partial<Record<ContenderId, number>> = {};
    for (const c of contenders) {
      let hits = 0;
      for (const k of keys) if (c.isHit((await fetchOnce(c.url, k, 30_000)).headers)) hits++;
      warmHits[c.id] = hits;
    }
    const warmedAt = Date.now();
    ctx.log(`  stale: warmed ${keys.length} keys on ${contenders.map((c) => c.id).join(", ")}`);
    return {
      origin,
      contenders,
      keys,
      warmedAt,
      warmHits,
      async close() {
        for (const c of contenders) await c.close();
        await origin.stop();
      },
    };
  } catch (e) {
    for (const c of contenders) await c.close().catch(() => {});
    await origin.stop();
    throw e;
  }
}

export async function staleCase(ctx: BenchContext, setup: StaleSetup): Promise<StaleResult> {
  const { requests, concurrency, waitForKvTtl } = ctx.config.stale;
  await setup.origin.stop();
  const waitS = waitForKvTtl ? KV_MIN_TTL_S + 2 : LIFETIME_S + 1;
  const waitMs = setup.warmedAt + waitS * 1000 - Date.now();
  if (waitMs > 0) {
    ctx.log(`  stale: origin stopped; waiting ${(waitMs / 1000).toFixed(0)} s until every entry is past its lifetime${waitForKvTtl ? " (the KV baseline's 60 s TTL included)" : ""}`);
    await sleep(waitMs);
  }
  const entryAgeSeconds = (Date.now() - setup.warmedAt) / 1000;
  const paths = Array.from({ length: requests }, (_, i) => setup.keys[i % setup.keys.length]!);
  const errors: Partial<Record<ContenderId, number>> = {};
  const fromCache: Partial<Record<ContenderId, number>> = {};
  const statuses: Partial<Record<ContenderId, Record<string, number>>> = {};
  const errorSamples: Partial<Record<ContenderId, string[]>> = {};
  for (const c of setup.contenders) {
    const r = await replay({ base: c.url, paths, concurrency, deadlineMs: 120_000, isHit: STALE_TESTS[c.id], timeoutMs: 10_000 });
    errors[c.id] = r.errors + r.unsent;
    fromCache[c.id] = r.hits;
    statuses[c.id] = r.statuses;
    errorSamples[c.id] = r.errorSamples;
    ctx.log(`  stale: ${LABELS[c.id].padEnd(22)} ${r.errors + r.unsent} errors / ${requests}; ${r.hits} marked as served from cache`);
  }
  return {
    errors,
    fromCache,
    statuses,
    errorSamples,
    requests,
    keys: setup.keys.length,
    entryAgeSeconds: Number(entryAgeSeconds.toFixed(1)),
    kvTtlElapsed: entryAgeSeconds > KV_MIN_TTL_S,
    goal: "edge-cache: 0 errors, every answer from stale",
    met: errors["edge-cache"] === 0 && fromCache["edge-cache"] === requests,
  };
}
