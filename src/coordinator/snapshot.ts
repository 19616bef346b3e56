/**
 * A per-isolate copy of shared state (purge records, uploaded rules), kept off the
 * hot path: cached, read by one request at a time (single flight), refreshed in the
 * background once it is `refreshMs` old, and awaited by a request only when it is
 * older than `boundMs`, then for at most `waitMs`. So an isolate that serves
 * requests never runs on a copy older than the bound plus that wait, and a request
 * waits for storage only when the copy is that old (or there is none yet).
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
}

export interface Snapshot<T> {
  /** The copy to use now; never rejects. `background` keeps a refresh alive past the request (ctx.waitUntil). */
  get(background?: (p: Promise<unknown>) => void): Promise<T>;
  /** Replaces the copy (after this isolate wrote: it sees its own write at once). */
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

  function refresh(): Promise<T> {
    loading ??= options
      .load(value)
      .then((v) => {
        value = v;
        loadedAt = clock.now();
        return v;
      })
      .finally(() => {
        loading = null;
      });
    return loading;
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
      // another request's I/O alone would get this request cancelled as hung.
      const fallback = value ?? options.initial();
      return within(clock, value === null ? options.firstWaitMs : options.waitMs, p, fallback);
    },
    set(v) {
      value = v;
    },
    peek: () => value,
    get loadedAt() {
      return loadedAt;
    },
  };
}
