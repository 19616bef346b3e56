/**
 * The purge state one isolate checks entries against: the `PurgeTable` of the site's
 * shared state (src/coordinator/site-state.ts), kept in step with the coordinator's
 * log (src/purge/log.ts) by one delta call per location, off the hot path.
 *
 * Propagation (src/coordinator/timing.ts, measured by the purge-race benchmark): the
 * isolate that records a purge applies it at once; every other isolate never serves
 * from state older than 5 s (counted from the coordinator call it came from) without
 * first waiting up to 0.3 s for a fresh one. When the coordinator cannot be reached,
 * the copy it keeps in KV serves instead (src/purge/kv-copy.ts), with KV's bounds
 * (about 60 s to reach other locations). A purge is only ever recorded by the
 * coordinator: if it cannot be, the purge applies in this isolate and the caller is
 * told to send it again.
 */
import { answerWithin, systemClock, type Clock } from "../clock";
import type { CoordinatorApi } from "../coordinator/client";
import type { SiteState } from "../coordinator/site-state";
import { BOUND_MS, COORDINATOR_TIMEOUT_MS, COORDINATOR_WRITE_TIMEOUT_MS, KV_READ_TIMEOUT_MS, REFRESH_MS, WAIT_MS } from "../coordinator/timing";
import type { PurgedEntry, Verdict } from "./index-table";
import type { PurgeInput, RecentPurge, Recorded } from "./log";
import type { PurgeTarget } from "./records";

export { purgeCopyKey } from "./log";
export { PURGE_KEY } from "./kv-copy";
export {
  emptyPurgeState,
  prefixForm,
  PURGE_STATE_VERSION,
  type PurgeKind,
  type PurgeRecord,
  type PurgeRecords,
  type PurgeState,
  type PurgeTarget,
} from "./records";
/** The shared timing (src/coordinator/timing.ts), under the names purge code has used. */
export { COORDINATOR_TIMEOUT_MS, COORDINATOR_WRITE_TIMEOUT_MS };
export const PURGE_REFRESH_MS = REFRESH_MS;
export const PURGE_BOUND_MS = BOUND_MS;
export const PURGE_WAIT_MS = WAIT_MS;
export const PURGE_READ_TIMEOUT_MS = KV_READ_TIMEOUT_MS;

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
  /** The site's shared state, which holds the table. */
  shared: SiteState;
  clock?: Clock;
  /** createWorker's log seam. */
  log: (line: Record<string, unknown>) => void;
}

export function createPurgeStore(options: PurgeStoreOptions): PurgeStore {
  const clock = options.clock ?? systemClock;
  const { log, shared } = options;
  const applyLocal = (target: PurgeTarget, soft: boolean, at: number) => shared.change((view) => view.purges.apply(target, soft, at));

  return {
    current: async (background) => (await shared.get(background)).purges,
    async record(purge) {
      let recorded: Recorded | null;
      try {
        recorded = await answerWithin(clock, COORDINATOR_WRITE_TIMEOUT_MS, options.coordinator().recordPurge({ ...purge, site: options.site }));
      } catch (err) {
        log({ msg: "coordinator-unavailable", part: "purge-record", error: message(err) });
        await applyLocal(purge.target, purge.soft, purge.at);
        throw err;
      }
      await applyLocal(purge.target, purge.soft, recorded.at);
      return recorded;
    },
    applyLocal: (target, soft, at) => void applyLocal(target, soft, at),
    recent: (limit) => answerWithin(clock, COORDINATOR_WRITE_TIMEOUT_MS, options.coordinator().recentPurges(limit)),
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
