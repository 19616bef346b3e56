/**
 * The load generator: undici (pinned in package.json) over keep-alive connections to
 * 127.0.0.1. Three shapes:
 *
 *   closedLoop  N connections, each sending its next request as soon as the last
 *               answered, for a duration or a request budget, whichever ends first.
 *   replay      a fixed list of requests (the offload trace, the stale run) sent by
 *               N workers in order, bounded by a deadline.
 *   burst       N requests for one URL at once, each on its own connection (the herd).
 *
 * Every response body is read to the end and its bytes counted; a request that
 * fails or answers non-2xx is an error. Every loop is bounded in count and time.
 */
import { Pool } from "undici";

export type HitTest = (headers: Record<string, string | string[] | undefined>) => boolean;

export interface LoadResult {
  requests: number;
  errors: number;
  /** Non-2xx statuses seen, by status (0 = network error). */
  statuses: Record<string, number>;
  /** Responses the contender marked as a cache hit (when it marks them). */
  hits: number;
  bytes: number;
  elapsedMs: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  /** First error messages, for the report. */
  errorSamples: string[];
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

class Recorder {
  private latencies: Float64Array;
  private n = 0;
  errors = 0;
  hits = 0;
  bytes = 0;
  statuses: Record<string, number> = {};
  errorSamples: string[] = [];
  constructor(capacity: number) {
    this.latencies = new Float64Array(capacity);
  }
  ok(ms: number, hit: boolean, bytes: number) {
    if (this.n < this.latencies.length) this.latencies[this.n] = ms;
    this.n++;
    if (hit) this.hits++;
    this.bytes += bytes;
  }
  fail(ms: number, status: number, message: string) {
    if (this.n < this.latencies.length) this.latencies[this.n] = ms;
    this.n++;
    this.errors++;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (this.errorSamples.length < 5) this.errorSamples.push(message);
  }
  result(elapsedMs: number): LoadResult {
    const lat = this.latencies.subarray(0, Math.min(this.n, this.latencies.length)).sort();
    return {
      requests: this.n,
      errors: this.errors,
      statuses: this.statuses,
      hits: this.hits,
      bytes: this.bytes,
      elapsedMs,
      rps: this.n / (elapsedMs / 1000),
      p50ms: percentile(lat, 50),
      p99ms: percentile(lat, 99),
      errorSamples: this.errorSamples,
    };
  }
}

interface SendOptions {
  pool: Pool;
  path: string;
  rec: Recorder;
  isHit?: HitTest;
  timeoutMs: number;
}

async function send({ pool, path, rec, isHit, timeoutMs }: SendOptions): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await pool.request({
      path,
      method: "GET",
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    let bytes = 0;
    let head = "";
    for await (const chunk of res.body) {
      bytes += (chunk as Buffer).length;
      if (!ok && head.length < 300) head += (chunk as Buffer).toString("utf8");
    }
    const ms = performance.now() - t0;
    if (ok) rec.ok(ms, isHit?.(res.headers) ?? false, bytes);
    else {
      const status = res.headers["cache-status"] ?? res.headers["x-cache-status"] ?? "";
      rec.fail(ms, res.statusCode, `HTTP ${res.statusCode} for ${path} [${String(status)}] ${head.slice(0, 300).replace(/\s+/g, " ")}`);
    }
  } catch (err) {
    rec.fail(performance.now() - t0, 0, `${(err as Error).message} for ${path}`);
  }
}

function pool(base: string, connections: number): Pool {
  return new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
}

export interface ClosedLoopOptions {
  base: string;
  paths: string[];
  connections: number;
  durationMs: number;
  maxRequests: number;
  isHit?: HitTest;
  timeoutMs?: number;
}

/** N connections, each back to back, until the duration or the request budget runs out. */
export async function closedLoop(o: ClosedLoopOptions): Promise<LoadResult> {
  const p = pool(o.base, o.connections);
  const rec = new Recorder(o.maxRequests);
  let issued = 0;
  const t0 = performance.now();
  const deadline = t0 + o.durationMs;
  const worker = async (w: number) => {
    let i = w;
    while (issued < o.maxRequests && performance.now() < deadline) {
      issued++;
      const path = o.paths[i++ % o.paths.length]!;
      await send({ pool: p, path, rec, isHit: o.isHit, timeoutMs: o.timeoutMs ?? 10_000 });
    }
  };
  await Promise.all(Array.from({ length: o.connections }, (_, w) => worker(w)));
  const elapsed = performance.now() - t0;
  await p.close();
  return rec.result(elapsed);
}

export interface ReplayOptions {
  base: string;
  paths: string[];
  concurrency: number;
  deadlineMs: number;
  isHit?: HitTest;
  timeoutMs?: number;
}

/** Sends each path of the list once, `concurrency` at a time, in order; stops at the deadline. */
export async function replay(o: ReplayOptions): Promise<LoadResult & { unsent: number }> {
  const p = pool(o.base, o.concurrency);
  const rec = new Recorder(o.paths.length);
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + o.deadlineMs;
  const worker = async () => {
    while (next < o.paths.length && performance.now() < deadline) {
      const path = o.paths[next++]!;
      await send({ pool: p, path, rec, isHit: o.isHit, timeoutMs: o.timeoutMs ?? 10_000 });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, () => worker()));
  const elapsed = performance.now() - t0;
  await p.close();
  return { ...rec.result(elapsed), unsent: o.paths.length - next };
}

/** `n` requests for one path, all at once, each on its own connection (opened beforehand). */
export async function burst(base: string, path: string, n: number, isHit?: HitTest, timeoutMs = 30_000): Promise<LoadResult> {
  const p = pool(base, n);
  // Open the connections first, so the requests leave together rather than as sockets
  // connect. Distinct URLs: a cache with request collapsing would queue identical ones.
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      p.request({ path: `/__bench/ping/${i}`, method: "GET" }).then((r) => r.body.dump(), () => {}),
    ),
  );
  const rec = new Recorder(n);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, () => send({ pool: p, path, rec, isHit, timeoutMs })));
  const elapsed = performance.now() - t0;
  await p.close();
  return rec.result(elapsed);
}

/** One request, body read to the end: status, headers and byte count. */
export async function fetchOnce(
  base: string,
  path: string,
  timeoutMs = 120_000,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number; ms: number }> {
  const p = pool(base, 1);
  const t0 = performance.now();
  try {
    const res = await p.request({ path, method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    return { status: res.statusCode, headers: res.headers, bytes, ms: performance.now() - t0 };
  } finally {
    await p.close();
  }
}
