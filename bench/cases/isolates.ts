/**
 * The many-isolates cases, against bench/isolates-worker.ts (createWorker() instances
 * made on demand; the isolates of a location share its Cache API namespace):
 *
 *   isolates.growth        one site, 4 locations, the same request rate for 20 s with 2
 *                          and then 16 isolates per location: coordinator requests per
 *                          second with 16 ÷ with 2 (`coordinatorPerSecond` has both)
 *                          (goal ≤ 1.25).
 *   cold-isolate           the coordinator held 150 ms per call; in a location with a
 *                          busy warm isolate, each new isolate's first request (a KV hit)
 *                          against the warm isolate's median (goal ≤ warm + 20 ms).
 *   purge-log              1,000,000 purge rows over 400 days, the newest a URL purged
 *                          after them; a cold isolate's first request for that URL:
 *                          `coldVerdictCorrect` (it is not served), `loadBytes` (its one
 *                          delta call, goal ≤ 8 MB), `loadMs` (that call).
 */
import { sleep } from "../stats";
import { BENCH_TOKEN } from "./locations";
import type { BenchContext } from "./context";

interface Counts {
  methods: Record<string, number>;
  since: Record<string, { bytes: number; ms: number }>;
}

const at = (base: string, path: string, where: { site: string; location: string; isolate: string }, init: RequestInit = {}) =>
  fetch(`${base}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), "x-bench-site": where.site, "x-bench-location": where.location, "x-bench-isolate": where.isolate } });

async function timed(base: string, path: string, where: { site: string; location: string; isolate: string }): Promise<{ ms: number; status: string }> {
  const t0 = performance.now();
  const res = await at(base, path, where);
  await res.arrayBuffer();
  return { ms: performance.now() - t0, status: res.headers.get("cache-status") ?? "" };
}

const counts = async (base: string, reset = false) => (await (await fetch(`${base}/__bench/counts`, { method: reset ? "DELETE" : "GET" })).json()) as Counts;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const total = (m: Record<string, number>, skip = /^stats/) => Object.entries(m).reduce((n, [k, v]) => (skip.test(k) ? n : n + v), 0);

export interface IsolatesGrowthResult {
  growth: number;
  coordinatorPerSecond: { "2": number; "16": number };
  /** Every coordinator call, statistics flushes included (src/stats: another feature's). */
  allPerSecond: { "2": number; "16": number };
  methods: { "2": Record<string, number>; "16": Record<string, number> };
  locations: number;
  seconds: number;
  requestsPerSecond: number;
  goal: string;
  met: boolean;
}

export async function isolatesGrowthCase(ctx: BenchContext, base: string, seconds = 20): Promise<IsolatesGrowthResult> {
  const locations = 4;
  const rate = 200;
  const run = Date.now().toString(36);
  const phase = async (perLocation: number) => {
    const site = `growth-${perLocation}-${run}`;
    const paths = Array.from({ length: 16 }, (_, i) => `/hit/isolates/${run}/${i}`);
    await counts(base, true);
    const started = performance.now();
    let sent = 0;
    const inflight = new Set<Promise<void>>();
    while (performance.now() - started < seconds * 1000) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (sent < due) {
        const n = sent++;
        const where = { site, location: String(n % locations), isolate: String(Math.floor(n / locations) % perLocation) };
        const p: Promise<void> = at(base, paths[n % paths.length]!, where).then((r) => r.arrayBuffer()).then(() => undefined, () => undefined).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await sleep(5);
    }
    await Promise.all(inflight);
    const elapsed = (performance.now() - started) / 1000;
    const got = await counts(base);
    return { perSecond: total(got.methods) / elapsed, all: total(got.methods, /^$/) / elapsed, methods: got.methods };
  };
  const two = await phase(2);
  const sixteen = await phase(16);
  const growth = two.perSecond > 0 ? sixteen.perSecond / two.perSecond : Infinity;
  ctx.log(`  isolates.growth: ${round(two.perSecond, 2)}/s coordinator requests with 2 isolates per location, ${round(sixteen.perSecond, 2)}/s with 16 (${round(growth, 2)}×)`);
  return {
    growth: round(growth, 2),
    coordinatorPerSecond: { "2": round(two.perSecond, 2), "16": round(sixteen.perSecond, 2) },
    allPerSecond: { "2": round(two.all, 2), "16": round(sixteen.all, 2) },
    methods: { "2": two.methods, "16": sixteen.methods },
    locations,
    seconds,
    requestsPerSecond: rate,
    goal: "16 isolates per location ÷ 2 ≤ 1.25",
    met: growth <= 1.25,
  };
}

export interface ColdIsolateResult {
  firstRequestMs: { "edge-cache": number };
  warmRequestMs: number;
  coordinatorDelayMs: number;
  isolates: number;
  firstStatuses: string[];
  goal: string;
  met: boolean;
}

export async function coldIsolateCase(ctx: BenchContext, base: string): Promise<ColdIsolateResult> {
  const run = Date.now().toString(36);
  const site = `cold-${run}`;
  const here = (isolate: string) => ({ site, location: "warm", isolate });
  const paths = Array.from({ length: 60 }, (_, i) => `/kv/cold-isolate/${run}/${i}`);
  // In KV (stored through another location), so every request for them here is a KV hit.
  for (const p of paths) await (await at(base, p, { site, location: "writer", isolate: "w" })).arrayBuffer();
  await sleep(500);
  await fetch(`${base}/__bench/delay?ms=150`, { method: "POST" });
  try {
    // The warm isolate: busy, so the location's copy stays fresh.
    const warm: number[] = [];
    let busy = true;
    const background = (async () => {
      for (let i = 0; busy; i++) {
        const t = await timed(base, paths[i % paths.length]!, here("warm"));
        if (i >= 20) warm.push(t.ms);
        await sleep(20);
      }
    })();
    await sleep(3_000);
    const first: number[] = [];
    const statuses: string[] = [];
    for (let n = 0; n < 20; n++) {
      const t = await timed(base, paths[(n * 7) % paths.length]!, here(`new-${n}`));
      first.push(t.ms);
      statuses.push(t.status);
      await sleep(150);
    }
    busy = false;
    await background;
    const warmMs = median(warm);
    const firstMs = median(first);
    ctx.log(`  cold-isolate: a new isolate's first request ${round(firstMs)} ms (median of ${first.length}), the warm isolate's ${round(warmMs)} ms, coordinator 150 ms away`);
    return {
      firstRequestMs: { "edge-cache": round(firstMs) },
      warmRequestMs: round(warmMs),
      coordinatorDelayMs: 150,
      isolates: first.length,
      firstStatuses: [...new Set(statuses.map((s) => s.replace(/ttl=\d+/, "ttl=N")))],
      goal: "≤ warm + 20 ms",
      met: firstMs <= warmMs + 20,
    };
  } finally {
    await fetch(`${base}/__bench/delay?ms=0`, { method: "POST" });
  }
}

export interface PurgeLogResult {
  coldVerdictCorrect: boolean;
  loadBytes: number;
  loadMs: number;
  firstRequestMs: number;
  rows: number;
  days: number;
  status: string;
  goal: string;
  met: boolean;
}

export async function purgeLogCase(ctx: BenchContext, base: string, rows = 1_000_000): Promise<PurgeLogResult> {
  const run = Date.now().toString(36);
  const site = `log-${run}`;
  const days = 400;
  const t0 = performance.now();
  await (await fetch(`${base}/__bench/seed-purges?site=${site}&count=${rows}&days=${days}`, { method: "POST" })).json();
  ctx.log(`  purge-log: ${rows} rows over ${days} days written in ${Math.round(performance.now() - t0)} ms`);
  const path = `/kv/purge-log/${run}`;
  const writer = { site, location: "writer", isolate: "w" };
  await (await at(base, path, writer)).arrayBuffer();
  // Until it is a KV hit from another location: stored.
  for (let i = 0; i < 50 && !/hit/.test((await timed(base, path, { site, location: "check", isolate: String(i) })).status); i++) await sleep(100);
  const purge = await at(base, "/.edge-cache/purge", writer, { method: "POST", headers: { authorization: `Bearer ${BENCH_TOKEN}` }, body: JSON.stringify({ urls: [path] }) });
  if (purge.status !== 200) throw new Error(`purge answered ${purge.status}: ${await purge.text()}`);
  const cold = { site, location: "cold", isolate: "c" };
  const first = await timed(base, path, cold);
  const load = (await counts(base)).since[`${site}/cold/c`] ?? { bytes: NaN, ms: NaN };
  const correct = !/;\s*hit\b/.test(first.status);
  ctx.log(`  purge-log: cold isolate's first request ${first.status} in ${Math.round(first.ms)} ms; its load ${round(load.bytes / 1e6, 2)} MB in ${Math.round(load.ms)} ms`);
  return {
    coldVerdictCorrect: correct,
    loadBytes: load.bytes,
    loadMs: Math.round(load.ms),
    firstRequestMs: Math.round(first.ms),
    rows,
    days,
    status: first.status,
    goal: "coldVerdictCorrect; loadBytes ≤ 8 MB",
    met: correct && load.bytes <= 8 * 1024 * 1024,
  };
}
