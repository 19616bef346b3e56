/**
 * The purge state of the whole site, kept in KV under one key and cached per isolate.
 *
 * Propagation: the isolate that records a purge applies it at once; other isolates
 * re-read the key at most `PURGE_CACHE_MS` (5 s) after their last read, and KV
 * itself takes about 60 s (not guaranteed: it is eventually consistent) to show a
 * write in other locations. So a purge holds everywhere within about 65 s.
 *
 * Writes are read-modify-write. KV allows one write per second per key: a refused
 * write (429) is retried once after a second, re-reading and merging first. Records
 * only ever merge (newest wins per target), so a stale read loses nothing that this
 * isolate recorded; two purges from two locations within KV's propagation window may
 * still lose one (stated in the docs).
 */
import { systemClock, within, type Clock } from "../clock";
import {
  applyPurge,
  emptyPurgeState,
  mergeStates,
  parsePurgeState,
  type PurgeState,
  type PurgeTarget,
} from "./records";

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

/** The KV key of the state; the version is in the name so a new format never misreads an old one. */
export const PURGE_KEY = "purge:v1";
/** How long an isolate trusts its copy before reading KV again. */
export const PURGE_CACHE_MS = 5_000;
/** A KV read that takes longer counts as failed: the last known state serves. */
export const PURGE_READ_TIMEOUT_MS = 1_500;
/** Wait before the one retry of a write KV refused (one write per second per key). */
export const PURGE_RETRY_MS = 1_100;

/** One purge to record. */
export interface Purge {
  target: PurgeTarget;
  soft: boolean;
  /** Its time, ms since epoch; default: the store's `now()` when it is recorded. */
  at?: number;
}

export interface PurgeStore {
  /** The state to check entries against; never rejects (a KV failure serves the last known state). */
  current(): Promise<PurgeState>;
  /** Records a purge (at `purge.at`, else `now()`) and resolves with the state written; rejects when KV refuses it twice. */
  record(purge: Purge): Promise<PurgeState>;
}

export interface PurgeStoreOptions {
  /** Timers for the read timeout and the retry wait (tests pass one they control). */
  clock?: Clock;
}

/** The purge state of one isolate, backed by `kv`. */
export function createPurgeStore(kv: KVNamespace, now: () => number, options: PurgeStoreOptions = {}): PurgeStore {
  const clock = options.clock ?? systemClock;
  let cached: { state: PurgeState; until: number } | null = null;
  let reading: Promise<PurgeState> | null = null;
  // Everything this isolate recorded: merged into every read, so a stale KV copy never hides our own purges.
  let own = emptyPurgeState();
  let writing: Promise<unknown> = Promise.resolve();

  async function read(): Promise<PurgeState | null> {
    const got = kv.get(PURGE_KEY, { type: "text" });
    const text = await within(clock, PURGE_READ_TIMEOUT_MS, got, "timeout" as const);
    if (text === "timeout") throw new Error(`no answer in ${PURGE_READ_TIMEOUT_MS} ms`);
    if (text === null) return emptyPurgeState();
    let parsed: PurgeState | null = null;
    try {
      parsed = parsePurgeState(JSON.parse(text));
    } catch {
      parsed = null;
    }
    if (parsed === null) {
      // Unknown or broken: never guess. Our own records still apply; the next write replaces it.
      log("purge-state-unreadable", new Error(`the value at ${PURGE_KEY} is not a version 1 purge state`));
      return null;
    }
    return parsed;
  }

  async function refresh(): Promise<PurgeState> {
    let fromKv: PurgeState | null;
    try {
      fromKv = await read();
    } catch (err) {
      log("purge-state-read", err);
      fromKv = null;
    }
    const base = fromKv ?? cached?.state ?? emptyPurgeState();
    const state = mergeStates(base, own, now());
    cached = { state, until: now() + PURGE_CACHE_MS };
    return state;
  }

  async function write(purge: Purge): Promise<PurgeState> {
    const at = purge.at ?? now();
    own = applyPurge(own, purge.target, purge.soft, at);
    for (let attempt = 0; ; attempt++) {
      const fromKv = await read().catch(() => null);
      const state = mergeStates(fromKv ?? cached?.state ?? emptyPurgeState(), own, now());
      try {
        await kv.put(PURGE_KEY, JSON.stringify(state));
        cached = { state, until: now() + PURGE_CACHE_MS };
        return state;
      } catch (err) {
        if (attempt > 0 || !isRateLimited(err)) throw err;
        await clock.timer(PURGE_RETRY_MS).fired;
      }
    }
  }

  return {
    current() {
      if (cached && now() < cached.until) return Promise.resolve(cached.state);
      if (reading) {
        // Another request's read. Awaiting its I/O without any of our own would get this
        // request cancelled as hung by workerd: use the last known state while it runs,
        // or, before the first read ever, wait with our own bound (as collapse waiters do).
        if (cached) return Promise.resolve(cached.state);
        return within(clock, PURGE_READ_TIMEOUT_MS + 100, reading, mergeStates(emptyPurgeState(), own, now()));
      }
      reading = refresh().finally(() => {
        reading = null;
      });
      return reading;
    },
    record(purge) {
      // One write at a time per isolate: each builds on the last, and KV sees no burst.
      const result = writing.then(() => write(purge));
      writing = result.catch(() => {});
      return result;
    },
  };
}

/** KV's "too many writes to one key" answer. */
function isRateLimited(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /\b429\b|too many requests|rate limit/i.test(message);
}

function log(msg: string, err: unknown): void {
  console.error(JSON.stringify({ msg, error: err instanceof Error ? err.message : String(err) }));
}
