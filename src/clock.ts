/**
 * Time as a dependency: the current time and timers that fire after a delay. The
 * Worker uses the system clock; tests pass one they move by hand, so timeouts,
 * lifetimes and stale windows are tested without waiting.
 */

export interface Timer {
  /** Resolves when the delay has passed (never rejects). */
  readonly fired: Promise<void>;
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  timer(ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  timer(ms) {
    let handle: ReturnType<typeof setTimeout> | undefined;
    const fired = new Promise<void>((resolve) => {
      handle = setTimeout(resolve, ms);
    });
    return {
      fired,
      cancel: () => {
        if (handle !== undefined) clearTimeout(handle);
      },
    };
  },
};

/** `work`'s value, or a rejection ("no answer in N ms", or `what` in place of "no answer") when the timer fires first. */
export async function answerWithin<T>(clock: Clock, ms: number, work: Promise<T>, what = "no answer"): Promise<T> {
  const got = await within(clock, ms, work, TIMED_OUT);
  if (got === TIMED_OUT) throw new Error(`${what} in ${ms} ms`);
  return got as T;
}

const TIMED_OUT: unique symbol = Symbol("timed out");

/** Resolves with `work`'s value, or with `onTimeout` when the timer fires first. */
export async function within<T, U>(clock: Clock, ms: number, work: Promise<T>, onTimeout: U): Promise<T | U> {
  const timer = clock.timer(ms);
  try {
    return await Promise.race([work, timer.fired.then(() => onTimeout)]);
  } finally {
    timer.cancel();
  }
}
