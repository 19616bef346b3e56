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
import { prunePurges, purgeCopy, purgeCopyKey, purgesSince, recentPurges, recordPurge, type PurgeDelta, type PurgeInput, type RecentPurge, type Recorded } from "../purge/log";
import { recordBuild, type BuildAnswer, type BuildInput } from "../builds/coordinator";
import { metaNumber, metaText, setMeta } from "./meta";
import { migrate } from "./schema";
import { addStats, readSample, readStats, type SampledRequest } from "../stats/coordinator";
import {
  LEGACY_RULES_KEY,
  noteIsolate,
  parseLegacyRules,
  recordRules,
  rulesCopy,
  rulesCopyKey,
  rulesSince,
  rulesStatus,
  seedRules,
  type IsolateReport,
  type RulesDelta,
  type RulesRecord,
  type RulesSeed,
  type RulesStatus,
  type RulesUpload,
} from "../rules/versions";
import type { StatsAnswer, WindowName } from "../stats/summary";
import { siteSince, type SiteAsk, type SiteDelta } from "./since";

/** The KV copy is written at most once a second (KV's limit per key), a second after a change. */
const COPY_DELAY_MS = 1_000;
/** Old purge rows are dropped at most hourly. */
const PRUNE_EVERY_MS = 3_600_000;

export class Coordinator extends DurableObject<WorkerEnv> {
  private readonly sql: SqlStorage;
  /** What each isolate last said it serves (rules): a view kept in memory, see src/rules/versions.ts. */
  private readonly isolates = new Map<string, IsolateReport & { seenAt: number }>();
  private legacyRules: Promise<void> | null = null;
  /** Set once the import is known to be done: every isolate polls every 2 s, and the flag saves each poll a read. */
  private legacyDone = false;

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

  /**
   * The one refresh call (src/coordinator/since.ts): purges, builds and rules since the
   * caller's sequences, and its seed until offered. One isolate per location asks it.
   */
  async since(asked: SiteAsk, report: IsolateReport, seed: RulesSeed | null): Promise<SiteDelta> {
    await this.importLegacyRules(report.site);
    noteIsolate(this.isolates, report, Date.now());
    const before = metaNumber(this.sql, "rules_seq");
    const delta = this.ctx.storage.transactionSync(() => siteSince(this.sql, asked, seed, Date.now()));
    if (delta.rules.sequence !== before) await this.soon();
    return delta;
  }

  /** The calls an isolate of the previous Worker version makes during a gradual deployment. */
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

  /** Uploaded rules (src/rules/versions.ts): one version per upload, in order. */
  async putRules(input: RulesUpload): Promise<RulesRecord> {
    const recorded = this.ctx.storage.transactionSync(() => recordRules(this.sql, input, Date.now()));
    await this.soon();
    return recorded;
  }

  async seedRules(seed: RulesSeed, since: number, report: IsolateReport): Promise<RulesDelta> {
    await this.importLegacyRules(report.site);
    noteIsolate(this.isolates, report, Date.now());
    const before = metaNumber(this.sql, "rules_seq");
    const delta = this.ctx.storage.transactionSync(() => seedRules(this.sql, seed, since, Date.now()));
    if (delta.sequence !== before) await this.soon();
    return delta;
  }

  async rulesSince(since: number, report: IsolateReport): Promise<RulesDelta> {
    await this.importLegacyRules(report.site);
    noteIsolate(this.isolates, report, Date.now());
    return rulesSince(this.sql, since);
  }

  async rulesStatus(): Promise<RulesStatus> {
    return rulesStatus(this.sql, this.isolates, Date.now());
  }

  /**
   * Once per site: the upload an older version kept in KV (`rules:v1`) becomes the first
   * version, so upgrading never drops the rules that serve. One call at a time does it.
   */
  private importLegacyRules(site: string): Promise<void> {
    if (!this.legacyDone) this.legacyDone = metaNumber(this.sql, "rules_legacy") === 1;
    if (this.legacyDone) return Promise.resolve();
    this.legacyRules ??= (async () => {
      const legacy = parseLegacyRules(await this.env.CACHE_KV.get(LEGACY_RULES_KEY, { type: "text" }));
      if (metaNumber(this.sql, "rules_legacy") === 1) return;
      this.ctx.storage.transactionSync(() => {
        if (legacy && metaNumber(this.sql, "rules_seq") === 0) recordRules(this.sql, { site, ...legacy }, legacy.at);
        setMeta(this.sql, "rules_legacy", 1);
      });
    })().finally(() => {
      this.legacyRules = null;
    });
    return this.legacyRules;
  }

  /** Writes the KV copies that changed and drops what no longer matters. */
  override async alarm(): Promise<void> {
    const sequence = metaNumber(this.sql, "purge_seq");
    if (sequence > metaNumber(this.sql, "purge_copy_seq")) {
      const copy = purgeCopy(this.sql, MAX_ROWS);
      await this.env.CACHE_KV.put(purgeCopyKey(metaText(this.sql, "site")), copy.value, { metadata: copy.metadata });
      setMeta(this.sql, "purge_copy_seq", copy.metadata.sequence);
    }
    const rulesSequence = metaNumber(this.sql, "rules_seq");
    if (rulesSequence > metaNumber(this.sql, "rules_copy_seq")) {
      await this.env.CACHE_KV.put(rulesCopyKey(metaText(this.sql, "site")), JSON.stringify(rulesCopy(this.sql)));
      setMeta(this.sql, "rules_copy_seq", rulesSequence);
    }
    const now = Date.now();
    if (now - metaNumber(this.sql, "pruned_at") >= PRUNE_EVERY_MS) {
      prunePurges(this.sql, now);
      setMeta(this.sql, "pruned_at", now);
    }
    // A change recorded while the puts above ran is not in its copy yet, and its soon()
    // may have found no alarm (a running alarm is not pending): it still needs one.
    const behind = metaNumber(this.sql, "purge_seq") > metaNumber(this.sql, "purge_copy_seq") || metaNumber(this.sql, "rules_seq") > metaNumber(this.sql, "rules_copy_seq");
    if (behind) await this.alarmBy(now + COPY_DELAY_MS);
    // Keep pruning hourly while there are records; a change brings the alarm forward.
    else if (sequence > 0) await this.alarmBy(now + PRUNE_EVERY_MS);
  }

  /** An alarm within `COPY_DELAY_MS`. */
  private soon(): Promise<void> {
    return this.alarmBy(Date.now() + COPY_DELAY_MS);
  }

  /** An alarm by `at`, unless one is already due sooner: the earliest of what is asked for is kept. */
  private async alarmBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
