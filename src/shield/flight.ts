/**
 * One origin fetch shared by every request the shield holds for a key. The first
 * request starts it; the others join while it runs. Whether a waiter may take the
 * answer is the store verdict, computed by that waiter for its own request and the
 * one the answer was fetched for (src/pipeline/store.ts `usable`): the shield does
 * not judge storability. It keeps to itself only what no waiter could use whatever
 * its verdict: a Set-Cookie (one client's, even where the entry may be stored
 * without it), a Vary (the key does not cover it), a 206 or 101, and a body
 * declared over `SHIELD_MAX_BODY`; those go to the request that started the flight
 * alone, and the others are told to fetch for themselves.
 * A shared body is kept in memory while it streams (at most `SHIELD_MAX_BODY`) and
 * replayed to each waiter from its first byte; an origin error mid-body reaches
 * every waiter as an error, never as a short body that looks complete.
 */
import type { AskedFor } from "./protocol";

/** Bodies larger than this pass straight through (and are never held in the shield's memory). */
export const SHIELD_MAX_BODY = 25 * 1024 * 1024;

export type Head = { shared: true; status: number; statusText: string; headers: Headers; length: number | null } | { shared: false; res: Response };

export class Flight {
  readonly head: Promise<Head>;
  waiters = 0;
  private chunks: Uint8Array[] = [];
  private size = 0;
  private done = false;
  private error: unknown = null;
  private changed: Promise<void>;
  private wake!: () => void;
  /** The whole body once it has arrived intact; null when it failed or was not shared. */
  readonly complete: Promise<Uint8Array[] | null>;
  private settle!: (chunks: Uint8Array[] | null) => void;

  /**
   * @param sentAt when the first caller sent its request (its clock): the answer's request time for every waiter.
   * @param generation which of the key's flights this is (see src/shield/object.ts).
   * @param askedFor what the store verdict reads of the first caller's request.
   */
  constructor(answer: Promise<Response>, readonly sentAt: number, readonly generation: number, readonly askedFor: AskedFor, onSettled: () => void) {
    this.changed = this.nextChange();
    this.complete = new Promise((resolve) => (this.settle = resolve));
    this.head = answer.then((res) => this.open(res, onSettled));
    this.head.catch(() => {
      this.settle(null);
      onSettled();
    });
  }

  /** A waiter's copy of the body, from its first byte. */
  body(): ReadableStream<Uint8Array> {
    let i = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (i >= this.chunks.length && !this.done && this.error === null) await this.changed;
        if (i < this.chunks.length) controller.enqueue(this.chunks[i++]!);
        else if (this.error !== null) controller.error(this.error);
        else controller.close();
      },
    });
  }

  private open(res: Response, onSettled: () => void): Head {
    const length = res.headers.has("content-length") ? Number(res.headers.get("content-length")) : null;
    if (!shareable(res, length)) {
      this.settle(null);
      onSettled();
      return { shared: false, res };
    }
    void this.pump(res.body, onSettled);
    return { shared: true, status: res.status, statusText: res.statusText, headers: new Headers(res.headers), length };
  }

  private async pump(body: ReadableStream<Uint8Array> | null, onSettled: () => void): Promise<void> {
    try {
      if (body) {
        for await (const chunk of body) {
          this.size += chunk.byteLength;
          if (this.size > SHIELD_MAX_BODY) throw new Error(`body over ${SHIELD_MAX_BODY} bytes without a Content-Length`);
          this.chunks.push(chunk);
          this.signal();
        }
      }
      this.done = true;
    } catch (err) {
      this.error = err instanceof Error ? err : new Error(String(err));
      this.chunks = [];
    } finally {
      this.settle(this.done ? this.chunks : null);
      this.signal();
      onSettled();
    }
  }

  private nextChange(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  private signal(): void {
    const wake = this.wake;
    this.changed = this.nextChange();
    wake();
  }
}

/** Whether waiters other than the first may be offered the answer at all (their store verdicts decide the rest). */
function shareable(res: Response, length: number | null): boolean {
  // §4.1: a Vary answer is one variant, and the shield's key does not select on it.
  if (res.headers.has("set-cookie") || res.headers.has("vary")) return false;
  if (res.status === 206 || res.status === 101) return false;
  return length === null || (Number.isFinite(length) && length <= SHIELD_MAX_BODY);
}
