/**
 * An isolate's statistics: every request is counted once, from the facts of its log
 * line, into one-minute buckets (a few map updates), and written to Analytics Engine
 * when that binding exists. With a coordinator, what was counted since the last flush
 * goes to it in the background at most every 10 s, with a small sample of the
 * requests, and the endpoint answers for the whole site.
 */
import { systemClock, within } from "../clock";
import type { CoordinatorApi } from "../coordinator/client";
import type { CompiledRoute } from "../rules/types";
import { analyticsWriter } from "./analytics";
import { KEEP_MINUTES, MinuteBuckets } from "./buckets";
import { cleanUrl } from "./clean-url";
import { encodeBatch, type SampledRequest } from "./coordinator";
import type { Observation } from "./counts";
import { classify, type Outcome } from "./outcome";
import { statsAnswer, type StatsAnswer, type WindowName } from "./summary";

/** The facts of a request's log line that the statistics read. */
export interface RequestFacts {
  method: string;
  status: number;
  cacheStatus: string | null;
  timings: { kv?: number; origin?: number };
  /** Content-Length of the answer, when it had one. */
  bytes: number | null;
}

export interface TrafficSample {
  scope: "site" | "isolate";
  requests: SampledRequest[];
}

export interface IsolateStats {
  observe(facts: RequestFacts, url: URL, route: CompiledRoute | null, exec?: ExecutionContext): void;
  /** A write into KV (the tier counts it: the request that caused it is long answered). */
  kvWrite(route: string): void;
  answer(window: WindowName): Promise<StatsAnswer>;
  /** The most recent sampled requests, newest first. */
  traffic(limit: number): Promise<TrafficSample>;
}

export interface StatsOptions {
  now(): number;
  analytics?: AnalyticsEngineDataset;
  /** The site's coordinator; without one the isolate's own counters answer. */
  coordinator?: () => CoordinatorApi;
  /** Where the one line about a failing coordinator or Analytics Engine goes (createWorker's log seam). */
  log(line: Record<string, unknown>): void;
}

/** At most one flush per isolate this often. */
export const FLUSH_EVERY_MS = 10_000;
/** Requests sampled per flush (reservoir), and kept by the isolate for itself. */
const SAMPLE_PER_FLUSH = 50;
const OWN_SAMPLE = 200;
/** A coordinator slower than this is treated as failed (real time: it bounds real waiting). */
const COORDINATOR_TIMEOUT_MS = 5_000;

/** Requests the origin answered: the ones the top-misses list is about. */
function wentToOrigin(o: Outcome): boolean {
  return o.kind === "miss" || o.kind === "miss-stored" || o.kind === "bypass" || o.kind === "error";
}

export function createIsolateStats(options: StatsOptions): IsolateStats {
  const own = new MinuteBuckets();
  const pending = new MinuteBuckets();
  const write = analyticsWriter(options.analytics, options.log);
  let sample: SampledRequest[] = [];
  let seen = 0;
  const recent: SampledRequest[] = [];
  let lastFlush = Number.NEGATIVE_INFINITY;
  let flushing: Promise<void> | null = null;
  let warned = false;

  /**
   * The site's figure from the coordinator, asked after this isolate's own latest
   * counts are flushed (so what it just served shows); null: use this isolate's own.
   */
  async function fromSite<T>(op: string, ask: (c: CoordinatorApi) => Promise<T>): Promise<T | null> {
    const coordinator = options.coordinator?.();
    if (!coordinator) return null;
    try {
      await flush();
      const site = await within(systemClock, COORDINATOR_TIMEOUT_MS, ask(coordinator), null);
      if (site) return site;
      warnOnce(op, "timeout");
    } catch (err) {
      warnOnce(op, err);
    }
    return null;
  }

  function warnOnce(op: string, err: unknown): void {
    if (!warned) options.log({ msg: "stats-coordinator-error", op, error: err instanceof Error ? err.message : String(err) });
    warned = true;
  }

  /** Reservoir sampling: every request of the interval has the same chance; the URL is built only when kept. */
  function sampleRequest(method: string, url: URL, now: number): void {
    seen++;
    const slot = sample.length < SAMPLE_PER_FLUSH ? sample.length : Math.floor(Math.random() * seen);
    if (slot >= SAMPLE_PER_FLUSH) return;
    const s = { method, url: cleanUrl(url, null), at: now };
    sample[slot] = s;
    recent.push(s);
    if (recent.length > OWN_SAMPLE) recent.shift();
  }

  function flush(): Promise<void> {
    if (flushing) return flushing;
    const coordinator = options.coordinator?.();
    const now = options.now();
    lastFlush = now;
    const batch = { minutes: pending.take(), sample };
    sample = [];
    seen = 0;
    if (!coordinator || (batch.minutes.length === 0 && batch.sample.length === 0)) return Promise.resolve();
    flushing = within(systemClock, COORDINATOR_TIMEOUT_MS, coordinator.statsAdd(encodeBatch(batch), now).then(() => true), false)
      .then((done) => {
        // A timed-out flush may still land: not sent again, so nothing is counted twice.
        if (!done) warnOnce("flush", "timeout");
      })
      .catch((err) => {
        // Refused: counted again with the next flush.
        pending.add(batch.minutes, options.now());
        warnOnce("flush", err);
      })
      .finally(() => (flushing = null));
    return flushing;
  }

  return {
    observe(facts, url, route, exec) {
      const outcome = classify(facts.status, facts.cacheStatus);
      const now = options.now();
      const o: Observation = {
        route: route?.name ?? "(none)",
        outcome,
        bytes: facts.bytes ?? 0,
        originMs: facts.timings.origin ?? null,
        kvRead: facts.timings.kv !== undefined,
      };
      const origin = wentToOrigin(outcome);
      const clean = origin || write ? cleanUrl(url, route) : undefined;
      if (origin && outcome.kind === "miss-stored") outcome.reason = "uri-miss";
      own.record(o, now, origin ? clean : undefined);
      write?.({ host: url.host, route: route?.name ?? null, method: facts.method, status: facts.status, outcome, bytes: o.bytes, originMs: o.originMs, kvRead: o.kvRead, url: clean! });
      sampleRequest(facts.method, url, now);
      if (!options.coordinator) return;
      pending.record(o, now, origin ? clean : undefined);
      if (exec && !flushing && now - lastFlush >= FLUSH_EVERY_MS) exec.waitUntil(flush());
    },
    kvWrite(route) {
      own.kvWrite(route, options.now());
      if (options.coordinator) pending.kvWrite(route, options.now());
    },
    async answer(window) {
      const site = await fromSite("read", (c) => c.statsRead(window, options.now()));
      if (site) return site;
      const now = options.now();
      return statsAnswer(own.window(now, KEEP_MINUTES), window, "isolate", now);
    },
    async traffic(limit) {
      const site = await fromSite("sample", (c) => c.statsSample(limit));
      if (site) return { scope: "site", requests: site };
      return { scope: "isolate", requests: recent.slice(-limit).reverse() };
    },
  };
}

/** Content-Length as a number, when the answer has a valid one. */
export function contentLength(headers: Headers): number | null {
  const v = headers.get("content-length");
  return v !== null && /^\d+$/.test(v) ? Number(v) : null;
}
