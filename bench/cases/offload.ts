/**
 * Case 4: origin offload on a realistic trace. Every contender replays the same
 * Zipf-popular request sequence (a share with utm_* and fbclid, parameters in random
 * order) from a cold cache; the origin counts what reached it. The ideal is one
 * fetch per distinct normalized URL.
 */
import type { ContenderId } from "../contenders";
import { replay } from "../load";
import { makeTrace } from "../trace";
import { round, sleep, spread, type Spread } from "../stats";
import { present, type BenchContext } from "./context";

export interface OffloadResult {
  /** Origin fetches per contender: the worst run. */
  originFetches: Partial<Record<ContenderId, number>>;
  /** The ideal: distinct normalized URLs in the trace (the largest over the runs' traces). */
  ideal: number;
  /** The ideal of each run's trace, in run order (`spread[id].runs` lines up with it). */
  idealRuns: number[];
  /** Distinct raw URLs: the best a cache keyed on the whole URL can do. */
  distinctRaw: number;
  spread: Partial<Record<ContenderId, Spread>>;
  /** Share of requests answered without the origin: 1 - fetches / requests. */
  offload: Partial<Record<ContenderId, number>>;
  errors: Partial<Record<ContenderId, number>>;
  errorSamples: Partial<Record<ContenderId, string[]>>;
  rps: Partial<Record<ContenderId, Spread>>;
  requests: number;
  urls: number;
  trackingShare: number;
  concurrency: number;
  runs: number;
  goal: string;
  met: boolean;
}

const ORDER: ContenderId[] = ["edge-cache", "cache-api-worker", "kv-worker", "nginx"];
const TRACKING_SHARE = 1 / 3;

export async function offloadCase(ctx: BenchContext): Promise<OffloadResult> {
  const o = ctx.config.offload;
  const contenders = present(ctx, ORDER);
  const fetches = new Map<ContenderId, number[]>(contenders.map((c) => [c.id, []]));
  const rps = new Map<ContenderId, number[]>(contenders.map((c) => [c.id, []]));
  const errors = new Map<ContenderId, number>(contenders.map((c) => [c.id, 0]));
  const samples = new Map<ContenderId, string[]>(contenders.map((c) => [c.id, []]));
  let ideal = 0;
  const idealRuns: number[] = [];
  let distinctRaw = 0;
  let overIdeal = true;
  for (let run = 0; run < o.runs; run++) {
    const trace = makeTrace({ requests: o.requests, urls: o.urls, trackingShare: TRACKING_SHARE, seed: 1000 + run, prefix: "" });
    ideal = Math.max(ideal, trace.ideal);
    idealRuns.push(trace.ideal);
    distinctRaw = Math.max(distinctRaw, trace.distinctRaw);
    for (const c of contenders) {
      const prefix = `/o/${run}/${c.id}`;
      const r = await replay({
        base: c.url,
        paths: trace.paths.map((p) => prefix + p),
        concurrency: o.concurrency,
        deadlineMs: 300_000,
        isHit: c.isHit,
      });
      await sleep(300);
      const n = ctx.origin.count(`${prefix}/`);
      fetches.get(c.id)!.push(n);
      rps.get(c.id)!.push(r.rps);
      errors.set(c.id, errors.get(c.id)! + r.errors + r.unsent);
      samples.get(c.id)!.push(...r.errorSamples.slice(0, 5 - samples.get(c.id)!.length));
      if (c.id === "edge-cache" && n !== trace.ideal) overIdeal = false;
      ctx.log(`  offload run ${run + 1}/${o.runs}: ${c.id.padEnd(16)} ${String(n).padStart(6)} origin fetches (ideal ${trace.ideal}, distinct raw ${trace.distinctRaw}) ${r.rps.toFixed(0)} req/s${r.errors ? `, ${r.errors} errors: ${r.errorSamples[0]?.slice(0, 200)}` : ""}`);
    }
  }
  const worst = Object.fromEntries([...fetches].map(([id, ns]) => [id, Math.max(...ns)])) as Partial<Record<ContenderId, number>>;
  return {
    originFetches: worst,
    ideal,
    idealRuns,
    distinctRaw,
    spread: Object.fromEntries([...fetches].map(([id, ns]) => [id, spread(ns, 0)])),
    offload: Object.fromEntries([...fetches].map(([id, ns]) => [id, round(1 - Math.max(...ns) / o.requests, 4)])),
    errors: Object.fromEntries(errors),
    errorSamples: Object.fromEntries(samples),
    rps: Object.fromEntries([...rps].map(([id, rs]) => [id, spread(rs, 0)])),
    requests: o.requests,
    urls: o.urls,
    trackingShare: round(TRACKING_SHARE, 3),
    concurrency: o.concurrency,
    runs: o.runs,
    goal: "edge-cache fetches each distinct normalized URL once (= ideal); errors are reported beside it",
    met: overIdeal,
  };
}
