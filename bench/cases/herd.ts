/**
 * Case 3: the thundering herd. N requests for one cold URL at once, each on its own
 * connection, against an origin that takes a moment to answer; the origin counts how
 * many reached it. An ideal cache sends one (nginx with proxy_cache_lock: one; the
 * seed-style workers: one per request that missed, up to N).
 */
import type { ContenderId } from "../contenders";
import { burst } from "../load";
import { sleep, spread, type Spread } from "../stats";
import { present, type BenchContext } from "./context";

export interface HerdResult {
  /** Origin fetches per contender: the worst run. */
  originFetches: Partial<Record<ContenderId, number>>;
  spread: Partial<Record<ContenderId, Spread>>;
  errors: Partial<Record<ContenderId, number>>;
  errorSamples: Partial<Record<ContenderId, string[]>>;
  concurrency: number;
  runs: number;
  originDelayMs: number;
  goal: string;
  met: boolean;
}

const ORDER: ContenderId[] = ["edge-cache", "cache-api-worker", "kv-worker", "nginx"];

export async function herdCase(ctx: BenchContext, originDelayMs: number): Promise<HerdResult> {
  const { runs, concurrency } = ctx.config.herd;
  const contenders = present(ctx, ORDER);
  const fetches = new Map<ContenderId, number[]>(contenders.map((c) => [c.id, []]));
  const errors = new Map<ContenderId, number>(contenders.map((c) => [c.id, 0]));
  const samples = new Map<ContenderId, string[]>(contenders.map((c) => [c.id, []]));
  for (let run = 0; run < runs; run++) {
    for (const c of contenders) {
      const path = `/herd/${run}/${c.id}`;
      const r = await burst(c.url, path, concurrency, c.isHit);
      // Background stores and late requests settle before counting.
      await sleep(300);
      const n = ctx.origin.count(path);
      fetches.get(c.id)!.push(n);
      errors.set(c.id, errors.get(c.id)! + r.errors);
      samples.get(c.id)!.push(...r.errorSamples.slice(0, 5 - samples.get(c.id)!.length));
      ctx.log(`  herd run ${run + 1}/${runs}: ${c.id.padEnd(16)} ${n} origin fetches for ${concurrency} requests${r.errors ? `, ${r.errors} errors: ${r.errorSamples[0]?.slice(0, 200)}` : ""}`);
    }
  }
  const worst = Object.fromEntries([...fetches].map(([id, ns]) => [id, Math.max(...ns)]));
  return {
    originFetches: worst,
    spread: Object.fromEntries([...fetches].map(([id, ns]) => [id, spread(ns, 0)])),
    errors: Object.fromEntries(errors),
    errorSamples: Object.fromEntries(samples),
    concurrency,
    runs,
    originDelayMs,
    goal: "edge-cache: 1 origin fetch; errors are reported beside it",
    met: worst["edge-cache"] === 1,
  };
}
