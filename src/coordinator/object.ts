/**
 * The coordinator: one SQLite-backed Durable Object per site, the single writer of
 * the site's shared state. Every method is a Durable Object RPC method that hands
 * its work to a small module (src/coordinator/*, or a feature's own folder); this
 * class only owns the storage, the schema and the alarm. Durable Objects run one
 * method's synchronous SQL at a time, so each method is serialized for free: no
 * locks, no compare-and-set; and a method's writes are durable before its answer
 * leaves the object (output gate), so "recorded" means stored.
 */
import { DurableObject } from "cloudflare:workers";
import type { WorkerEnv } from "../env";
import { MAX_ROWS } from "../purge/index-table";
import { prunePurges, purgeCopy, purgesSince, recentPurges, recordPurge, type PurgeDelta, type PurgeInput, type RecentPurge, type Recorded } from "../purge/log";
import { purgeCopyKey } from "../purge/state";
import { recordBuild, type BuildAnswer, type BuildInput } from "../builds/coordinator";
import { metaNumber, metaText, setMeta } from "./meta";
import { migrate } from "./schema";
import { addStats, readSample, readStats, type SampledRequest } from "../stats/coordinator";
import type { StatsAnswer, WindowName } from "../stats/summary";

/** The KV copy is written at most once a second (KV's limit per key), a second after a change. */
const COPY_DELAY_MS = 1_000;
/** Old purge rows are dropped at most hourly. */
const PRUNE_EVERY_MS = 3_600_000;

export class Coordinator extends DurableObject<WorkerEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: WorkerEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => migrate(this.sql));
  }

  /** The coordinator's clock (ms since epoch): what callers may compare their own against. */
  async time(): Promise<number> {
    return Date.now();
  }

  async recordPurge(input: PurgeInput): Promise<Recorded> {
    const recorded = this.ctx.storage.transactionSync(() => recordPurge(this.sql, input, Date.now()));
    await this.soon();
    return recorded;
  }

  /** An origin answer's build (src/builds): a new one is recorded as a soft purge of its routes. */
  async recordBuild(input: BuildInput): Promise<BuildAnswer> {
    const answer = this.ctx.storage.transactionSync(() => recordBuild(this.sql, input, Date.now()));
    if (answer.changed) await this.soon();
    return answer;
  }

  async purgesSince(since: number): Promise<PurgeDelta> {
    return purgesSince(this.sql, since);
  }

  async recentPurges(limit: number): Promise<RecentPurge[]> {
    return recentPurges(this.sql, limit);
  }

  /** Statistics (src/stats): an isolate's counters and request sample, added to the site's. */
  async statsAdd(batch: string, now: number): Promise<void> {
    this.ctx.storage.transactionSync(() => addStats(this.sql, batch, now));
  }

  async statsRead(window: WindowName, now: number): Promise<StatsAnswer> {
    return readStats(this.sql, window, now);
  }

  async statsSample(limit: number): Promise<SampledRequest[]> {
    return readSample(this.sql, limit);
  }

  /** Writes the KV copies that changed and drops what no longer matters. */
  override async alarm(): Promise<void> {
    const sequence = metaNumber(this.sql, "purge_seq");
    if (sequence > metaNumber(this.sql, "purge_copy_seq")) {
      const copy = purgeCopy(this.sql, MAX_ROWS);
      await this.env.CACHE_KV.put(purgeCopyKey(metaText(this.sql, "site")), copy.value, { metadata: copy.metadata });
      setMeta(this.sql, "purge_copy_seq", copy.metadata.sequence);
    }
    const now = Date.now();
    if (now - metaNumber(this.sql, "pruned_at") >= PRUNE_EVERY_MS) {
      prunePurges(this.sql, now);
      setMeta(this.sql, "pruned_at", now);
    }
    // Keep pruning hourly while there are records; a change brings the alarm forward.
    if (sequence > 0) await this.ctx.storage.setAlarm(now + PRUNE_EVERY_MS);
  }

  /** An alarm within `COPY_DELAY_MS`, unless one is already due sooner. */
  private async soon(): Promise<void> {
    const at = Date.now() + COPY_DELAY_MS;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
