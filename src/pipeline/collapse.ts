/**
 * Request collapsing, per isolate (what Varnish calls the waiting list): the first
 * miss for a key goes to the origin; later ones wait for its outcome instead of
 * going too. When the answer was stored they read it from the tier; when it was
 * not storable they go themselves, and the key is remembered as uncacheable for a
 * short while so that requests do not queue behind every new attempt (hit-for-pass).
 */
import { remember } from "../bounded-map";
import { within, type Clock } from "../clock";

/** What a flight's waiters learn: at least whether its answer was stored (a revalidation tells more). */
export interface Outcome {
  stored: boolean;
}

interface Flight<T extends Outcome> {
  /** True for the request that must fetch; false for one that should wait. */
  leader: boolean;
  /** Resolves with the leader's outcome, or `null` when the bound ran out. */
  wait(boundMs: number): Promise<T | null>;
  /** Leader only: tell the waiters, and clear the slot. */
  settle(outcome: T): void;
}

export interface Collapser {
  join<T extends Outcome = Outcome>(key: string, now: number): Flight<T>;
  /**
   * Whether a flight for `key` stored its answer within the last `JUST_STORED_MS`: a
   * request whose lookup began before that store finished (a slow KV read) reads the
   * tiers again before it fetches.
   */
  justStored(key: string, now: number): boolean;
  /** Remembers an uncacheable key until `until` (ms). */
  markUncacheable(key: string, until: number): void;
}

/** How long a stored flight is remembered for `justStored`: longer than a KV read may take (1.5 s). */
const JUST_STORED_MS = 2_000;

/** Keys each hint map keeps (they are hints, not a store). */
const MAX_HINTS = 10_000;

export function createCollapser(clock: Clock): Collapser {
  const inflight = new Map<string, Promise<Outcome>>();
  const uncacheable = new Map<string, number>();
  const stored = new Map<string, number>();

  return {
    markUncacheable(key, until) {
      remember(uncacheable, key, until, MAX_HINTS);
    },
    justStored(key, now) {
      const at = stored.get(key);
      return at !== undefined && now - at < JUST_STORED_MS;
    },
    join<T extends Outcome>(key: string, now: number): Flight<T> {
      const passUntil = uncacheable.get(key);
      if (passUntil !== undefined && passUntil > now) {
        return { leader: true, wait: async () => null, settle() {} };
      }
      // Every flight under one key carries the same kind of outcome: the key says which (miss or revalidation).
      const existing = inflight.get(key) as Promise<T> | undefined;
      if (existing) {
        return {
          leader: false,
          wait: (boundMs) => within(clock, boundMs, existing, null),
          settle() {},
        };
      }
      let resolve!: (o: T) => void;
      const promise = new Promise<T>((r) => (resolve = r));
      inflight.set(key, promise);
      let settled = false;
      return {
        leader: true,
        wait: () => promise,
        settle(outcome: T) {
          if (settled) return;
          settled = true;
          if (inflight.get(key) === promise) inflight.delete(key);
          if (outcome.stored) {
            uncacheable.delete(key);
            remember(stored, key, clock.now(), MAX_HINTS);
          }
          resolve(outcome);
        },
      };
    },
  };
}
