/**
 * A per-isolate copy of shared state (purge records, uploaded rules), kept off the
 * hot path: cached, read by one request at a time (single flight), refreshed in the
 * background once it is `refreshMs` old, and awaited by a request only when it is
 * older than `boundMs`, then for at most `waitMs`. So an isolate that serves
 * requests never runs on a copy older than the bound plus that wait, and a request
 * waits for storage only when the copy is that old (or none was loaded yet).
 * The age counts from the last load, never from a `set()`: a write makes the copy
 * newer in one respect only, so it does not make it fresh.
 *
 * `load` gets the previous value (to ask for a delta) and must never reject: it
 * falls back on its own (the coordinator, then the KV copy) and logs why.
 */
import { within, type Clock } from "../clock";

export interface SnapshotOptions<T> {
  clock: Clock;
  load(previous: T | null): Promise<T>;
  /** What serves before the first load finishes, if it cannot wait longer. */
  initial(): T;
  refreshMs: number;
  boundMs: number;
  /** Longest a request waits for a refresh of a copy older than the bound. */
  waitMs: number;
  /** Longest the first request of an isolate waits (there is nothing to serve yet). */
  firstWaitMs: number;
  /**
   * When a loaded value was current (ms, the clock's time); default: when its load
   * ended. A copy another isolate asked for is as old as that ask, not as its reading.
   */
  asOf?(value: T): number;
}

export interface Snapshot<T> {
  /** The copy to use now; never rejects. `background` keeps a refresh alive past the request (ctx.waitUntil). */
  get(background?: (p: Promise<unknown>) => void): Promise<T>;
  /** Replaces the copy (after this isolate wrote: it sees its own write at once, and no load begun earlier undoes it). */
  set(value: T): void;
  /** The copy as it is, without loading. */
  peek(): T | null;
  /** When the copy was last loaded (ms, the clock's time), or null. */
  readonly loadedAt: number | null;
}

export function createSnapshot<T>(options: SnapshotOptions<T>): Snapshot<T> {
  const { clock } = options;
  let value: T | null = null;
  let loadedAt: number | null = null;
  let loading: Promise<T> | null = null;
  // Counts set() calls. A load that began before one read the shared state before
  // this isolate's write and may not contain it (or may predate it): its answer must
  // not replace the value set since, however late it lands.
  let generation = 0;

  function refresh(): Promise<T> {
    loading ??= settle().finally(() => {
      loading = null;
    });
    return loading;
  }

  async function settle(): Promise<T> {
    // One more load, from the value set, when a set() overtakes the first: a request
    // waiting on this refresh (the first of an isolate, or one past the bound) must get
    // a copy loaded after the write, not the write alone or the copy before it.
    for (let attempt = 0; attempt < 2; attempt++) {
      const started = generation;
      const v = await options.load(value);
      // The same object: `load` changed the copy in place, so it holds the write too.
      if (generation === started || v === value) {
        value = v;
        loadedAt = options.asOf ? options.asOf(v) : clock.now();
        return v;
      }
    }
    // Overtaken again: keep the value set and leave `loadedAt` as it was, so the next
    // get starts another refresh and the bound above still holds.
    return value!;
  }

  return {
    async get(background) {
      const age = loadedAt === null ? Infinity : clock.now() - loadedAt;
      if (value !== null && age < options.refreshMs) return value;
      const started = loading === null;
      const p = refresh();
      if (started) background?.(p);
      if (value !== null && age < options.boundMs) return value;
      // Too old (or none): wait, but briefly, and with a timer of our own: awaiting
      // another request's I/O alone would get this request cancelled as hung. A copy
      // that was only ever set, never loaded (this isolate's own purge before its first
      // load), lacks everything written elsewhere: it waits as long as having none.
      const fallback = value ?? options.initial();
      return within(clock, loadedAt === null ? options.firstWaitMs : options.waitMs, p, fallback);
    },
    set(v) {
      value = v;
      generation++;
    },
    peek: () => value,
    get loadedAt() {
      return loadedAt;
    },
  };
}
