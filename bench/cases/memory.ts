/**
 * Case 5: streaming memory. A fresh workerd per contender; one small request to load
 * the Worker, then a large origin response through a miss and through a hit (or what
 * the contender does the second time). The runtime process's resident memory is read
 * from /proc: its high-water mark (VmHWM, reset with clear_refs before the transfer
 * where Linux allows) and, as a cross-check, VmRSS sampled every 20 ms.
 * Growth = peak during the two transfers - resident size before them.
 *
 * Then the slow reader (`slowReader`): a fresh workerd again, one miss of a large body
 * read by a client at a fixed slow rate for a while and then dropped, as a phone on a
 * bad network does. Whatever the Worker does not hold back from the origin while the
 * client lags piles up in the runtime (a tee buffers for its slower branch), so the
 * growth here is the bound on that backlog. The peak covers the read, the drop and a
 * settling time after it (the store may still be running).
 */
import http from "node:http";
import v8 from "node:v8";
import vm from "node:vm";
import { LABELS, startWorkerContender, type ContenderId } from "../contenders";
import { fetchOnce } from "../load";
import { memoryOf, resetPeak } from "../runtime";
import { round, sleep, spread, type Spread } from "../stats";
import type { BenchContext } from "./context";

interface Transfer {
  status: number;
  bytes: number;
  seconds: number;
  cacheStatus: string | null;
}

export interface MemoryRun {
  beforeMB: number;
  peakMB: number;
  afterMB: number;
  growthMB: number;
  /** Peak growth during the miss phase (over `beforeMB`) and during the second request (over the RSS it started with). */
  missGrowthMB: number;
  secondGrowthMB: number;
  peakFrom: "VmHWM" | "sampled";
  miss: Transfer;
  second: Transfer;
  originFetches: number;
  workerErrors: string[];
}

export interface SlowReaderRun {
  beforeMB: number;
  peakMB: number;
  growthMB: number;
  peakFrom: "VmHWM" | "sampled";
  status: number;
  cacheStatus: string | null;
  /** Bytes the client read before it dropped the connection. */
  clientBytes: number;
  /** Bytes the origin had sent when the client dropped, and at the end. */
  originBytesAtDrop: number;
  originBytesAtEnd: number;
  workerErrors: string[];
}

export interface SlowReaderResult {
  /** Peak RSS growth per contender, MiB. */
  growthMB: Partial<Record<ContenderId, number>>;
  runs: Partial<Record<ContenderId, SlowReaderRun>>;
  bodyMB: number;
  readKiBps: number;
  readSeconds: number;
  goal: string;
  met: boolean;
}

export interface MemoryResult {
  /** Peak RSS growth per contender, MiB: the worst run. */
  growthMB: Partial<Record<ContenderId, number>>;
  spread: Partial<Record<ContenderId, Spread>>;
  runs: Partial<Record<ContenderId, MemoryRun[]>>;
  bodyMB: number;
  goal: string;
  met: boolean;
  slowReader: SlowReaderResult;
  /** One isolate's statistics after 24 h of minutes (heap MiB held, Node): the goal is ≤ 8. */
  statsMB: { "edge-cache": number };
  stats: StatsMemory;
}

export interface StatsMemory {
  routes: number;
  requestsPerMinute: number;
  minutes: number;
  /** Minutes the isolate holds at the end: its own window and what it has not flushed. */
  retained: { own: number; pending: number };
  flushes: number;
  goal: string;
  met: boolean;
}

const ORDER = ["edge-cache", "kv-worker", "cache-api-worker"] as const;

function cacheStatusOf(h: Record<string, string | string[] | undefined>): string | null {
  const pick = (n: string) => (Array.isArray(h[n]) ? (h[n] as string[]).join(", ") : (h[n] as string | undefined));
  return pick("cache-status") ?? (pick("cf-cache-status") ? `cf-cache-status: ${pick("cf-cache-status")}` : null);
}

async function transfer(url: string, path: string): Promise<Transfer> {
  const r = await fetchOnce(url, path, 180_000);
  return { status: r.status, bytes: r.bytes, seconds: round(r.ms / 1000, 2), cacheStatus: cacheStatusOf(r.headers) };
}

/** Runs `f` and reports the process's peak RSS meanwhile (VmHWM after a reset, else sampled). */
async function peakDuring<T>(
  pid: number,
  f: () => Promise<T>,
): Promise<{ value: T; startMB: number; peakMB: number; from: "VmHWM" | "sampled" }> {
  const reset = resetPeak(pid);
  const startMB = memoryOf(pid)?.rssMB ?? 0;
  let sampled = startMB;
  const sampler = setInterval(() => {
    const m = memoryOf(pid);
    if (m && m.rssMB > sampled) sampled = m.rssMB;
  }, 20);
  try {
    const value = await f();
    const m = memoryOf(pid);
    return { value, startMB, peakMB: reset && m ? Math.max(m.hwmMB, sampled) : sampled, from: reset ? "VmHWM" : "sampled" };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Loads the Worker and its bindings before the baseline reading, through a miss and a
 * hit of one small URL, so neither first-use cost lands in the growth measured after.
 */
async function warmUp(url: string, path: string): Promise<void> {
  for (let i = 0; i < 2; i++) await fetchOnce(url, path, 30_000);
  await sleep(500);
}

export async function memoryCase(ctx: BenchContext): Promise<MemoryResult> {
  const { runs, bytes } = ctx.config.memory;
  const results = new Map<ContenderId, MemoryRun[]>(ORDER.map((id) => [id, []]));
  for (let run = 0; run < runs; run++) {
    for (const id of ORDER) {
      const c = await startWorkerContender(id, ctx.build, ctx.origin.url, { sMaxAge: 3600, kvTtl: 3600 }, `-mem${run}`);
      try {
        if (c.pid === null) throw new Error(`cannot find the workerd process of ${id}`);
        const pid = c.pid;
        await warmUp(c.url, `/hit/mem-${run}-${id}`);
        const before = memoryOf(pid)!;
        const path = `/big/${bytes}/${run}-${id}`;
        // Peak of each phase: the miss (with its background store), then the second request.
        const missPhase = await peakDuring(pid, async () => {
          const t = await transfer(c.url, path);
          await sleep(1500);
          return t;
        });
        const secondPhase = await peakDuring(pid, async () => {
          const t = await transfer(c.url, path);
          await sleep(500);
          return t;
        });
        const after = memoryOf(pid)!;
        const miss = missPhase.value;
        const second = secondPhase.value;
        const peak = Math.max(missPhase.peakMB, secondPhase.peakMB);
        const r: MemoryRun = {
          beforeMB: round(before.rssMB, 1),
          peakMB: round(peak, 1),
          afterMB: round(after.rssMB, 1),
          growthMB: round(peak - before.rssMB, 1),
          missGrowthMB: round(missPhase.peakMB - before.rssMB, 1),
          secondGrowthMB: round(secondPhase.peakMB - secondPhase.startMB, 1),
          peakFrom: missPhase.from,
          miss,
          second,
          originFetches: ctx.origin.count(path),
          workerErrors: c.worker?.stderrLines.slice(0, 5) ?? [],
        };
        results.get(id)!.push(r);
        ctx.log(`  memory run ${run + 1}/${runs}: ${LABELS[id].padEnd(22)} before ${r.beforeMB} MB, peak ${r.peakMB} MB (+${r.growthMB}; miss +${r.missGrowthMB}, second +${r.secondGrowthMB}); miss ${miss.status} ${(miss.bytes / 2 ** 20).toFixed(0)} MiB in ${miss.seconds} s; second ${second.status} ${(second.bytes / 2 ** 20).toFixed(0)} MiB [${second.cacheStatus ?? "-"}]; origin fetches ${r.originFetches}`);
      } finally {
        await c.close();
      }
    }
  }
  const slowReader = await slowReaderCase(ctx);
  const stats = await statsMemory();
  const growth = Object.fromEntries([...results].map(([id, rs]) => [id, Math.max(...rs.map((r) => r.growthMB))]));
  const edge = results.get("edge-cache")!;
  const complete = edge.every((r) => r.miss.bytes === bytes && r.second.bytes === bytes && r.miss.status === 200 && r.second.status === 200);
  return {
    growthMB: growth,
    spread: Object.fromEntries([...results].map(([id, rs]) => [id, spread(rs.map((r) => r.growthMB), 1)])),
    runs: Object.fromEntries(results),
    bodyMB: round(bytes / 2 ** 20, 1),
    goal: "edge-cache peak RSS growth < 64 MB through a miss and a hit",
    met: complete && (growth["edge-cache"] ?? Infinity) < 64,
    slowReader,
    statsMB: { "edge-cache": stats.mb },
    stats: stats.detail,
  };
}

/**
 * GETs `path` and reads the body at `bytesPerSecond` for `seconds`, then destroys the
 * connection. Node's socket buffers stay small (we stop reading, TCP pushes back), so
 * the Worker sees a client that really is slow.
 */
function readSlowly(url: string, path: string, bytesPerSecond: number, seconds: number): Promise<{ status: number; bytes: number; cacheStatus: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, { agent: false }, (res) => {
      res.pause();
      let bytes = 0;
      const t0 = Date.now();
      const ticker = setInterval(() => {
        // From the time gone by, not per tick: timers drift on a busy machine.
        let budget = Math.floor(((Date.now() - t0) * bytesPerSecond) / 1000) - bytes;
        while (budget > 0) {
          const chunk = res.read() as Buffer | null;
          if (!chunk) break;
          const take = Math.min(chunk.length, budget);
          if (take < chunk.length) res.unshift(chunk.subarray(take));
          bytes += take;
          budget -= take;
        }
      }, 50);
      const stop = setTimeout(() => {
        clearInterval(ticker);
        res.destroy();
        req.destroy();
        resolve({ status: res.statusCode ?? 0, bytes, cacheStatus: cacheStatusOf(res.headers) });
      }, seconds * 1000);
      res.once("error", () => {});
      res.once("end", () => {
        clearInterval(ticker);
        clearTimeout(stop);
        resolve({ status: res.statusCode ?? 0, bytes, cacheStatus: cacheStatusOf(res.headers) });
      });
    });
    req.once("error", (e) => (req.destroyed ? undefined : reject(e)));
  });
}

async function slowReaderCase(ctx: BenchContext): Promise<SlowReaderResult> {
  const { bytes, bytesPerSecond, seconds, settleMs } = ctx.config.memory.slowReader;
  const runs: Partial<Record<ContenderId, SlowReaderRun>> = {};
  for (const id of ORDER) {
    const c = await startWorkerContender(id, ctx.build, ctx.origin.url, { sMaxAge: 3600, kvTtl: 3600 }, "-slow");
    try {
      if (c.pid === null) throw new Error(`cannot find the workerd process of ${id}`);
      await warmUp(c.url, `/hit/slow-${id}`);
      const before = memoryOf(c.pid)!;
      const path = `/big/${bytes}/slow-${id}`;
      const sentBefore = ctx.origin.bytesSent;
      let atDrop = 0;
      const phase = await peakDuring(c.pid, async () => {
        const read = await readSlowly(c.url, path, bytesPerSecond, seconds);
        atDrop = ctx.origin.bytesSent - sentBefore;
        await sleep(settleMs);
        return read;
      });
      const r: SlowReaderRun = {
        beforeMB: round(before.rssMB, 1),
        peakMB: round(phase.peakMB, 1),
        growthMB: round(phase.peakMB - before.rssMB, 1),
        peakFrom: phase.from,
        status: phase.value.status,
        cacheStatus: phase.value.cacheStatus,
        clientBytes: phase.value.bytes,
        originBytesAtDrop: atDrop,
        originBytesAtEnd: ctx.origin.bytesSent - sentBefore,
        workerErrors: c.worker?.stderrLines.slice(0, 5) ?? [],
      };
      runs[id] = r;
      ctx.log(`  slow reader: ${LABELS[id].padEnd(22)} before ${r.beforeMB} MB, peak ${r.peakMB} MB (+${r.growthMB}); client read ${(r.clientBytes / 2 ** 20).toFixed(2)} MiB in ${seconds} s, origin sent ${(r.originBytesAtDrop / 2 ** 20).toFixed(0)} MiB by the drop, ${(r.originBytesAtEnd / 2 ** 20).toFixed(0)} MiB in all [${r.cacheStatus ?? "-"}]`);
    } finally {
      await c.close();
    }
  }
  const growth = Object.fromEntries(Object.entries(runs).map(([id, r]) => [id, r.growthMB]));
  const edge = runs["edge-cache"];
  return {
    growthMB: growth,
    runs,
    bodyMB: round(bytes / 2 ** 20, 1),
    readKiBps: round(bytesPerSecond / 1024, 1),
    readSeconds: seconds,
    goal: "edge-cache peak RSS growth < 64 MB while a slow client reads a large miss, then drops it",
    met: edge !== undefined && edge.status === 200 && edge.clientBytes > 0 && edge.growthMB < 64,
  };
}

/** A full collection, for heap readings (Node exposes gc only behind a flag; this sets it). */
function collector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

/**
 * One isolate's statistics (src/stats/recorder.ts, in Node) after 24 h of minutes: the
 * clock moves a minute at a time, 400 requests a minute over 64 routes, each a miss of
 * a URL never seen before, flushes taken by a stand-in for the location's object. The
 * heap it still holds after a full collection, against the heap before it was made.
 */
/** The parts of src/stats/recorder.ts the measure drives. */
interface Recorder {
  observe(facts: unknown, url: URL, route: unknown, exec: { waitUntil(p: Promise<unknown>): void }): void;
  retained(): { own: number; pending: number };
}

/**
 * The recorder is loaded by a path TypeScript does not follow: its types name the
 * Workers runtime's (Durable Objects, Analytics Engine), which this Node config lacks.
 */
const RECORDER: string = "../../src/stats/recorder";

export async function statsMemory(): Promise<{ mb: number; detail: StatsMemory }> {
  const { createIsolateStats } = (await import(RECORDER)) as { createIsolateStats(options: unknown): Recorder };
  const ROUTES = 64;
  const PER_MINUTE = 400;
  const MINUTES = 24 * 60;
  const gc = collector();
  const miss = { method: "GET", status: 200, cacheStatus: "edge-cache; fwd=uri-miss; stored; ttl=60", timings: { origin: 40 }, bytes: 2048 };
  const routes = Array.from({ length: ROUTES }, (_, i) => ({ name: `route-${i}` }));
  let flushes = 0;
  const location = { add: async () => (flushes++, { forwarded: true }) };
  const clock = { t: Date.UTC(2026, 0, 1) };
  const waits: Promise<unknown>[] = [];
  const exec = { waitUntil: (p: Promise<unknown>) => void waits.push(p) };
  gc();
  const before = process.memoryUsage().heapUsed;
  const stats = createIsolateStats({ now: () => clock.t, objects: { site: "bench", location: () => location, history: () => location }, log: () => {} });
  for (let minute = 0; minute < MINUTES; minute++) {
    for (let i = 0; i < PER_MINUTE; i++) {
      clock.t += 60_000 / PER_MINUTE;
      stats.observe(miss, new URL(`https://bench.example/r${i % ROUTES}/${minute}/${i}/${minute * PER_MINUTE + i}`), routes[i % ROUTES], exec);
      // Flushes land as they would between requests.
      if (waits.length) await Promise.all(waits.splice(0));
    }
  }
  gc();
  const mb = round((process.memoryUsage().heapUsed - before) / 2 ** 20, 2);
  const retained = stats.retained();
  return {
    mb,
    detail: { routes: ROUTES, requestsPerMinute: PER_MINUTE, minutes: MINUTES, retained, flushes, goal: "one isolate's statistics after 24 h of minutes ≤ 8 MB of heap", met: mb <= 8 },
  };
}
