/**
 * The statistics objects (SQLite-backed Durable Objects, class `Stats`, binding
 * `STATS`), in two roles by name (src/stats/client.ts):
 *
 * - **A location's** (`["location", site, colo]`): the isolates of that location flush
 *   to it at most every 10 s each (`add`); it adds their counts up in memory and
 *   forwards them to the site's object at most once per `FORWARD_EVERY_MS` (the first
 *   flush after a quiet interval at once, the rest with the next one or an alarm), or
 *   at once when a read asks. So the site's object gets at most one request per
 *   location per interval, whatever the isolates.
 * - **The site's** (`["site", site]`): the 24 h history, pre-aggregated in SQLite
 *   (src/stats/history.ts), and the traffic sample; the stats endpoint reads it.
 *
 * A location's object keeps no history (its tables stay empty). What it holds between
 * forwards (≤ one interval of its location's counts) is lost if it restarts, as an
 * isolate's unflushed counts are when it is evicted; a forward the site's object does
 * not take is dropped with one log line per outage: requests never wait on either.
 */
import { DurableObject } from "cloudflare:workers";
import { answerWithin, systemClock } from "../clock";
import type { WorkerEnv } from "../env";
import { MinuteBuckets, minuteOf } from "./buckets";
import { decodeBatch, encodeBatch, SAMPLE_SIZE, type SampledRequest } from "./batch";
import { statsFor } from "./client";
import { HISTORY_SQL, mergeHistory, pruneHistory, readHistory, readSample } from "./history";
import { isWindow, type StatsAnswer, type WindowName } from "./summary";

/** A location's object forwards at most this often (the isolates' own flush interval). */
export const FORWARD_EVERY_MS = 10_000;
/** The site's object slower than this is treated as failed (real time). */
const SITE_TIMEOUT_MS = 5_000;

export class Stats extends DurableObject<WorkerEnv> {
  private readonly sql: SqlStorage;
  // A location's role.
  /** One interval's flushes (each minute of them once, whatever the isolates): any minute of the last 24 h. */
  private readonly pending = new MinuteBuckets();
  private sampled: SampledRequest[] = [];
  private site: string | null = null;
  private lastForward = Number.NEGATIVE_INFINITY;
  /** The callers' clock (flushes are dated by it) as last told, and the real time then: the alarm dates its forward from it. */
  private told = { now: 0, at: 0 };
  private warned = false;
  // The site's role.
  private prunedMinute = 0;

  constructor(ctx: DurableObjectState, env: WorkerEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      for (const s of HISTORY_SQL) this.sql.exec(s);
    });
  }

  /** A location's object: an isolate's flush (`encodeBatch`). `forwarded`: whether this call sent a request to the site's object. */
  async add(batch: string, now: number, site: string, forwardNow = false): Promise<{ forwarded: boolean }> {
    const { minutes, sample } = decodeBatch(batch);
    this.site = site;
    this.told = { now, at: Date.now() };
    this.pending.add(minutes, now);
    this.sampled = this.sampled.concat(sample).slice(-SAMPLE_SIZE);
    const wait = FORWARD_EVERY_MS - (now - this.lastForward);
    if (forwardNow || wait <= 0) return { forwarded: await this.forward(now) };
    const due = await this.ctx.storage.getAlarm();
    if (due === null) await this.ctx.storage.setAlarm(Date.now() + wait);
    return { forwarded: false };
  }

  override async alarm(): Promise<void> {
    await this.forward(this.told.now + (Date.now() - this.told.at));
  }

  /** The site's object: a location's forward, added into the history. */
  async merge(batch: string, now: number): Promise<void> {
    const decoded = decodeBatch(batch);
    this.ctx.storage.transactionSync(() => {
      mergeHistory(this.sql, decoded, now);
      if (minuteOf(now) > this.prunedMinute) {
        pruneHistory(this.sql, now);
        this.prunedMinute = minuteOf(now);
      }
    });
  }

  async read(window: WindowName, now: number): Promise<StatsAnswer> {
    if (!isWindow(window)) throw new Error(`unknown window ${JSON.stringify(window)}`);
    return readHistory(this.sql, window, now);
  }

  async sample(limit: number): Promise<SampledRequest[]> {
    return readSample(this.sql, limit);
  }

  private async forward(now: number): Promise<boolean> {
    this.lastForward = now;
    const batch = { minutes: this.pending.take(), sample: this.sampled };
    this.sampled = [];
    if (this.site === null || (batch.minutes.length === 0 && batch.sample.length === 0)) return false;
    try {
      await answerWithin(systemClock, SITE_TIMEOUT_MS, statsFor(this.env.STATS, { site: this.site, location: null }).merge(encodeBatch(batch), now));
      this.warned = false;
      return true;
    } catch (err) {
      // Dropped, never kept for later: what this object holds stays one interval's worth.
      if (!this.warned) console.log(JSON.stringify({ msg: "stats-unavailable", part: "site", site: this.site, error: err instanceof Error ? err.message : String(err) }));
      this.warned = true;
      return false;
    }
  }
}
