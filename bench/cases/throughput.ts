/**
 * Cases 1 and 2: hit throughput and latency. Every contender is warmed on the same
 * hot set of URLs, then measured in alternation (A B A B ...), each trial a closed
 * loop of N connections for a fixed time. The headline is edge-cache's req/s divided
 * by the baseline's, per pair, median of the pairs: both ran on the same machine
 * within seconds of each other, so shared-machine noise mostly cancels.
 *
 *   edge-hit  /hit/*  edge-cache (edge tier) vs the seed Cache API worker (and nginx, for reference)
 *   kv-hit    /kv/*   edge-cache with ttl.edge 0 (KV tier only) vs the seed KV worker
 *   kv-hit-logged  /kv/logged/*  the same with a log line for every request
 *
 * The two hit routes log 1 % of their hits (`"log": 0.01`, errors always), as a busy
 * route would: one console.log costs a hit about as much CPU as everything else it
 * does beyond the seed Worker, which logs nothing. kv-hit-logged shows that cost.
 */
import type { ContenderId } from "../contenders";
import { closedLoop, fetchOnce, type LoadResult } from "../load";
import { cpuMsOf } from "../runtime";
import { round, sleep, spread, type Spread } from "../stats";
import { present, type BenchContext } from "./context";

export interface ThroughputResult {
  /** edge-cache ÷ baseline req/s, median of the pairs. */
  ratio: number;
  ratioSpread: Spread;
  baseline: ContenderId;
  goal: string;
  met: boolean;
  /** edge-cache ÷ each other contender, median of the pairs. */
  ratios: Partial<Record<ContenderId, Spread>>;
  rps: Partial<Record<ContenderId, Spread>>;
  p50ms: Partial<Record<ContenderId, Spread>>;
  p99ms: Partial<Record<ContenderId, Spread>>;
  /**
   * CPU time of the serving process(es) per request, ms (workerd: the Worker plus the
   * local Cache API / KV simulators; nginx: master and workers). Less sensitive to a
   * busy machine than req/s; the Worker's own share is what Workers would bill.
   */
  cpuMsPerRequest: Partial<Record<ContenderId, Spread>>;
  errors: Partial<Record<ContenderId, number>>;
  errorSamples: Partial<Record<ContenderId, string[]>>;
  /** Share of measured responses the contender marked as hits (null: it does not mark them). */
  hitShare: Partial<Record<ContenderId, number | null>>;
  /** Origin fetches during the measured trials (0 = every answer came from cache). */
  originFetchesDuringTrials: Partial<Record<ContenderId, number>>;
  pairs: number;
  trialSeconds: number;
  connections: number;
  urls: number;
}

interface Spec {
  name: "edge-hit" | "kv-hit" | "kv-hit-logged";
  prefix: string;
  baseline: ContenderId;
  others: ContenderId[];
  goal: number;
}

export const EDGE_HIT: Spec = { name: "edge-hit", prefix: "/hit", baseline: "cache-api-worker", others: ["nginx"], goal: 0.9 };
export const KV_HIT: Spec = { name: "kv-hit", prefix: "/kv", baseline: "kv-worker", others: [], goal: 0.9 };
export const KV_HIT_LOGGED: Spec = { name: "kv-hit-logged", prefix: "/kv/logged", baseline: "kv-worker", others: [], goal: 0.9 };

export async function throughputCase(ctx: BenchContext, spec: Spec): Promise<ThroughputResult | { skipped: string }> {
  const t = ctx.config.throughput;
  const contenders = present(ctx, ["edge-cache", spec.baseline, ...spec.others]);
  if (!contenders.some((c) => c.id === "edge-cache") || !contenders.some((c) => c.id === spec.baseline)) {
    return { skipped: "edge-cache or the baseline is not running" };
  }
  const paths = Array.from({ length: t.urls }, (_, i) => `${spec.prefix}/${i}`);
  // Each contender gets its own URLs, so the origin can tell who fetched what.
  const own = (id: ContenderId) => paths.map((p) => `${p}?c=${id}`);

  // Fill: one miss per URL, a pause for background stores, then a check pass.
  for (const c of contenders) {
    for (const p of own(c.id)) await fetchOnce(c.url, p, 30_000);
  }
  await sleep(500);
  for (const c of contenders) {
    let hits = 0;
    for (const p of own(c.id)) if (c.isHit((await fetchOnce(c.url, p, 30_000)).headers)) hits++;
    ctx.log(`  ${spec.name}: ${c.id} warm, ${hits}/${paths.length} marked hits on the check pass`);
  }
  for (const c of contenders) {
    await closedLoop({ base: c.url, paths: own(c.id), connections: t.connections, durationMs: t.warmupMs, maxRequests: 1_000_000, isHit: c.isHit });
  }

  const fetchesBefore = new Map(contenders.map((c) => [c.id, countFor(ctx, spec.prefix, c.id)]));
  const runs = new Map<ContenderId, LoadResult[]>(contenders.map((c) => [c.id, []]));
  const cpu = new Map<ContenderId, number[]>(contenders.map((c) => [c.id, []]));
  for (let pair = 0; pair < t.pairs; pair++) {
    for (const c of contenders) {
      const cpu0 = c.pid !== null ? cpuMsOf(c.pid) : null;
      const r = await closedLoop({
        base: c.url,
        paths: own(c.id),
        connections: t.connections,
        durationMs: t.trialMs,
        maxRequests: Math.ceil((t.trialMs / 1000) * 50_000),
        isHit: c.isHit,
      });
      runs.get(c.id)!.push(r);
      const cpu1 = c.pid !== null ? cpuMsOf(c.pid) : null;
      if (cpu0 !== null && cpu1 !== null && r.requests > 0) cpu.get(c.id)!.push((cpu1 - cpu0) / r.requests);
      ctx.log(`  ${spec.name} pair ${pair + 1}/${t.pairs}: ${c.id.padEnd(16)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  cpu ${cpu.get(c.id)!.at(-1)?.toFixed(3) ?? "?"} ms/req${r.errors ? `  ${r.errors} errors` : ""}`);
    }
  }

  const edge = runs.get("edge-cache")!;
  const ratioRuns = (id: ContenderId) => edge.map((r, i) => r.rps / runs.get(id)![i]!.rps);
  const by = <T>(f: (id: ContenderId, rs: LoadResult[]) => T) =>
    Object.fromEntries(contenders.map((c) => [c.id, f(c.id, runs.get(c.id)!)])) as Partial<Record<ContenderId, T>>;
  const main = spread(ratioRuns(spec.baseline));
  return {
    ratio: main.median,
    ratioSpread: main,
    baseline: spec.baseline,
    goal: `edge-cache ÷ ${spec.baseline} req/s >= ${spec.goal}`,
    met: main.median >= spec.goal,
    ratios: Object.fromEntries(contenders.filter((c) => c.id !== "edge-cache").map((c) => [c.id, spread(ratioRuns(c.id))])),
    rps: by((_, rs) => spread(rs.map((r) => r.rps), 0)),
    p50ms: by((_, rs) => spread(rs.map((r) => r.p50ms), 2)),
    p99ms: by((_, rs) => spread(rs.map((r) => r.p99ms), 2)),
    cpuMsPerRequest: by((id) => spread(cpu.get(id)!, 3)),
    errors: by((_, rs) => rs.reduce((n, r) => n + r.errors, 0)),
    errorSamples: by((_, rs) => rs.flatMap((r) => r.errorSamples).slice(0, 5)),
    hitShare: by((id, rs) =>
      id === "kv-worker" ? null : round(rs.reduce((n, r) => n + r.hits, 0) / Math.max(1, rs.reduce((n, r) => n + r.requests, 0)), 4),
    ),
    originFetchesDuringTrials: by((id) => countFor(ctx, spec.prefix, id) - fetchesBefore.get(id)!),
    pairs: t.pairs,
    trialSeconds: t.trialMs / 1000,
    connections: t.connections,
    urls: t.urls,
  };
}

/** Origin fetches under `prefix` made on behalf of contender `id` (its URLs carry `c=<id>`). */
function countFor(ctx: BenchContext, prefix: string, id: ContenderId): number {
  let n = 0;
  for (const [url, c] of ctx.origin.byUrl(`${prefix}/`)) if (url.includes(`c=${id}`)) n += c;
  return n;
}
