/**
 * The purge state one isolate checks entries against: a `PurgeTable` kept in step
 * with the coordinator (src/purge/log.ts) by deltas since its sequence number, off
 * the hot path (src/coordinator/snapshot.ts).
 *
 * Propagation (stated, and measured by the purge-race benchmark): the isolate that
 * records a purge applies it at once; every other isolate that serves requests asks
 * for a delta once its copy is `PURGE_REFRESH_MS` old (in the background) and never
 * serves from a copy older than `PURGE_BOUND_MS` without first waiting up to
 * `PURGE_WAIT_MS` for a fresh one: a purge holds everywhere within 5 s.
 *
 * When the coordinator cannot be reached (error, or no answer in
 * `COORDINATOR_TIMEOUT_MS`), the copy the coordinator keeps in KV serves instead,
 * with KV's bounds (about 60 s to reach other locations), and each such read logs
 * one line. A purge is only ever recorded by the coordinator: if it cannot be, the
 * purge applies in this isolate and the caller is told to send it again.
 */
import { answerWithin, systemClock, within, type Clock } from "../clock";
import type { CoordinatorApi } from "../coordinator/client";
import { createSnapshot } from "../coordinator/snapshot";
import { PurgeTable, type PurgedEntry, type Verdict } from "./index-table";
import type { PurgeCopyMeta, PurgeInput, RecentPurge, Recorded } from "./log";
import { parsePurgeState, type PurgeRecords, type PurgeTarget } from "./records";

export {
  emptyPurgeState,
  purgeVerdict,
  prefixForm,
  PURGE_STATE_VERSION,
  type PurgeKind,
  type PurgeRecord,
  type PurgeRecords,
  type PurgeState,
  type PurgeTarget,
} from "./records";

/** The KV copy the coordinator of `site` writes (see `purgeCopy`). */
export const purgeCopyKey = (site: string) => `purge:v2:${site}`;
/** Where purges lived before the coordinator; still read when there is no copy yet. */
export const PURGE_KEY = "purge:v1";
export const PURGE_REFRESH_MS = 2_000;
export const PURGE_BOUND_MS = 5_000;
export const PURGE_WAIT_MS = 300;
export const COORDINATOR_TIMEOUT_MS = 1_000;
/** A write to the coordinator (a purge, a rules upload, a build) may take longer than a read. */
export const COORDINATOR_WRITE_TIMEOUT_MS = COORDINATOR_TIMEOUT_MS * 5;
/** A KV read that takes longer counts as failed: the last known state serves. */
export const PURGE_READ_TIMEOUT_MS = 1_500;
/** At most this many deltas in one refresh (50,000 rows each): a cold isolate loads 250,000 rows in 5. */
const MAX_DELTAS = 6;
/** How often an isolate drops rows past the horizon. */
const PRUNE_EVERY_MS = 10 * 60_000;

/** One purge to record (the store adds the site; `horizonMs` is `purgeHorizonMs(rules)`). */
export type Purge = Omit<PurgeInput, "site">;

/** What a request checks an entry against. */
export interface PurgeView {
  verdict(entry: PurgedEntry, url: URL): Verdict;
  /** The coordinator sequence number the view is complete up to. */
  readonly sequence: number;
  /** Rows held, and the bytes they take (the per-isolate bound). */
  readonly size: number;
  readonly bytes: number;
}

export interface PurgeStore {
  /** The view to check entries against; never rejects. */
  current(background?: (p: Promise<unknown>) => void): Promise<PurgeView>;
  /** Records a purge at the coordinator; rejects when it cannot (the purge still applies in this isolate). */
  record(purge: Purge): Promise<Recorded>;
  /** The newest purges the coordinator recorded, newest first; rejects when it cannot be reached. */
  recent(limit: number): Promise<RecentPurge[]>;
  /** Applies a purge the coordinator recorded some other way (a new build, src/builds) in this isolate at once. */
  applyLocal(target: PurgeTarget, soft: boolean, at: number): void;
}

export interface PurgeStoreOptions {
  site: string;
  coordinator(): CoordinatorApi;
  kv: KVNamespace;
  clock?: Clock;
  /** createWorker's log seam. */
  log: (line: Record<string, unknown>) => void;
}

export function createPurgeStore(options: PurgeStoreOptions): PurgeStore {
  const clock = options.clock ?? systemClock;
  const { log } = options;
  let prunedAt = clock.now();

  async function fromCoordinator(previous: PurgeTable | null): Promise<PurgeTable> {
    let table = previous ?? new PurgeTable();
    const api = options.coordinator();
    for (let i = 0; i < MAX_DELTAS; i++) {
      const delta = await answerWithin(clock, COORDINATOR_TIMEOUT_MS, api.purgesSince(table.sequence));
      // The coordinator knows less than we do (its storage was reset): start again from what it has.
      if (delta.sequence < table.sequence) table = new PurgeTable();
      table.addRows(delta.rows);
      table.addEverything(delta.everything.hard, delta.everything.soft);
      table.floor = Math.max(table.floor, delta.floor);
      table.sequence = delta.sequence;
      if (clock.now() - prunedAt > PRUNE_EVERY_MS && delta.horizonMs > 0) {
        table.prune(clock.now() - delta.horizonMs);
        prunedAt = clock.now();
      }
      if (!delta.more) break;
    }
    return table;
  }

  async function fromKv(previous: PurgeTable | null): Promise<PurgeTable> {
    const table = previous ?? new PurgeTable();
    const got = options.kv.getWithMetadata<PurgeCopyMeta>(purgeCopyKey(options.site), { type: "arrayBuffer" });
    const copy = await answerWithin(clock, PURGE_READ_TIMEOUT_MS, got, "no answer from KV");
    if (copy.value && copy.metadata?.v === 2) {
      if (copy.metadata.sequence > table.sequence) {
        table.addRows(new Float64Array(copy.value));
        table.addEverything(...copy.metadata.everything);
        table.floor = Math.max(table.floor, copy.metadata.floor);
        table.sequence = copy.metadata.sequence;
      }
      return table;
    }
    // No copy yet: the records an older version kept in KV, if any.
    await addLegacy(table);
    return table;
  }

  async function addLegacy(table: PurgeTable): Promise<void> {
    const text = await within(clock, PURGE_READ_TIMEOUT_MS, options.kv.get(PURGE_KEY, { type: "text" }), null);
    const state = text ? parsePurgeState(safeJson(text)) : null;
    if (!state) return;
    const newest = (r: PurgeRecords, soft: boolean) => Math.max(0, ...r.filter((x) => x.soft === soft).map((x) => x.at));
    table.addEverything(newest(state.everything, false), newest(state.everything, true));
    for (const kind of ["tags", "routes", "urls", "prefixes"] as const) {
      for (const [value, records] of Object.entries(state[kind])) {
        table.apply({ kind, values: [value] }, false, newest(records, false));
        table.apply({ kind, values: [value] }, true, newest(records, true));
      }
    }
  }

  const snapshot = createSnapshot<PurgeTable>({
    clock,
    async load(previous) {
      try {
        return await fromCoordinator(previous);
      } catch (err) {
        log({ msg: "coordinator-unavailable", part: "purges", fallback: "kv", error: message(err) });
      }
      try {
        return await fromKv(previous);
      } catch (err) {
        log({ msg: "purge-state-read", fallback: "last-known", error: message(err) });
        return previous ?? new PurgeTable();
      }
    },
    initial: () => new PurgeTable(),
    refreshMs: PURGE_REFRESH_MS,
    boundMs: PURGE_BOUND_MS,
    waitMs: PURGE_WAIT_MS,
    firstWaitMs: COORDINATOR_TIMEOUT_MS + PURGE_READ_TIMEOUT_MS + 100,
  });

  /** The table this isolate applies its own purges to (a new one before the first load). */
  function local(): PurgeTable {
    const table = snapshot.peek() ?? new PurgeTable();
    snapshot.set(table);
    return table;
  }

  return {
    current: (background) => snapshot.get(background),
    async record(purge) {
      let recorded: Recorded | null;
      try {
        recorded = await answerWithin(clock, COORDINATOR_WRITE_TIMEOUT_MS, options.coordinator().recordPurge({ ...purge, site: options.site }));
      } catch (err) {
        log({ msg: "coordinator-unavailable", part: "purge-record", error: message(err) });
        local().apply(purge.target, purge.soft, purge.at);
        throw err;
      }
      local().apply(purge.target, purge.soft, recorded.at);
      return recorded;
    },
    applyLocal: (target, soft, at) => local().apply(target, soft, at),
    async recent(limit) {
      const got = await answerWithin(clock, COORDINATOR_WRITE_TIMEOUT_MS, options.coordinator().recentPurges(limit));
      return got;
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
