/**
 * Detaching a client that lags behind the store (what Varnish does when a client is
 * slower than the backend fetch: the client reads the object being stored). On a miss
 * the body is split by `http/tee.ts`, whose native tee goes at the slower branch's
 * pace; over HTTP a slow client (a phone) would then pace the store, and with it every
 * request collapsed onto this one, which waits until a tier holds the whole entry.
 *
 * So the client's branch is read at once into a queue held to `LAG_BOUND_BYTES`: a
 * client that keeps up within that never paces the tee. One that falls further behind
 * is detached: its branch is cancelled (the store goes on at the origin's pace), it
 * drains the queue, and then reads the rest from the stored entry, skipping the bytes
 * it already had. When no tier kept the entry whole, its body errors where the queue
 * ended, as an origin failing mid-body would: the response is cut short of its length.
 * Memory per request stays at the bound, and all clients' queues together at
 * `ISOLATE_QUEUE_BYTES`, whatever their pace: past it, a client is detached at once.
 *
 * The client reads a native stream (an IdentityTransformStream): the queue is written
 * into it at the client's pace, and the stored rest is piped into it natively, since
 * reading a tier's body chunk by chunk in JavaScript is slow (local Cache API: 4 KiB
 * reads, about 0.5 ms each).
 */

/**
 * What the isolate queues for one lagging client before detaching it. Large enough that
 * a client a little slower than the origin seldom reaches it (it then waits for the
 * store to end before reading on), small enough that a few dozen lagging misses at
 * once fit the isolate's 128 MB.
 */
export const LAG_BOUND_BYTES = 4 * 1024 * 1024;

/**
 * What every lagging client of the isolate queues at most, together: a few dozen slow
 * phones on large misses at once must not add up to the isolate's 128 MB.
 */
export const ISOLATE_QUEUE_BYTES = 32 * 1024 * 1024;

/** Bytes queued now by every client of this isolate. */
let isolateQueued = 0;

/** What every lagging client of the isolate queues now (for its tests). */
export const isolateQueuedBytes = (): number => isolateQueued;

export interface LaggingClient {
  /** The bound on the queue (LAG_BOUND_BYTES unless a test says otherwise). */
  bound?: number;
  /** The body's declared length, null when unknown: a response of known length keeps its Content-Length only on a FixedLengthStream. */
  length?: number | null;
  /**
   * Whether the store is expected to keep the body whole (a declared length the tiers
   * take): otherwise the client is never detached, and past the bound it paces the tee
   * as before, since the rest might be nowhere to read.
   */
  detachable: boolean;
  /** The whole stored body, once the store has ended; null when no tier holds it whole. */
  stored(): Promise<ReadableStream<Uint8Array> | null>;
  /** Hears the detach, and how many bytes the client had then (delivered and queued). */
  detached?(offset: number): void;
}

/** The client's copy of `branch`: the same bytes, read ahead up to the bound, the rest from the store when it lags past it. */
export function detachWhenLagging(branch: ReadableStream<Uint8Array>, opts: LaggingClient): ReadableStream<Uint8Array> {
  const bound = opts.bound ?? LAG_BOUND_BYTES;
  const source = branch.getReader();
  const out = opts.length == null ? new IdentityTransformStream() : new FixedLengthStream(opts.length);
  const writer = out.writable.getWriter();
  const queue: Uint8Array[] = [];
  let queued = 0;
  /** Bytes read from the branch: where the rest from the store starts. */
  let taken = 0;
  let state: "reading" | "ended" | "detached" | "gone" = "reading";
  let failure: { error: unknown } | null = null;
  let wake: (() => void) | null = null;
  let drained: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };

  // Reads the branch as fast as it comes, up to the bound.
  const pump = async () => {
    try {
      while (state === "reading") {
        if (queued >= bound || (queued > 0 && isolateQueued >= ISOLATE_QUEUE_BYTES)) {
          if (!opts.detachable) {
            // Paced as before: the next read waits for the client to take a chunk.
            await new Promise<void>((r) => (drained = r));
            continue;
          }
          state = "detached";
          opts.detached?.(taken);
          await source.cancel("client lagging: detached").catch(() => {});
          return;
        }
        const { done, value } = await source.read();
        if (done) {
          if (state === "reading") state = "ended";
          return;
        }
        // The client left while the read was under way: nothing more is held for it.
        if (state !== "reading") return;
        queue.push(value);
        queued += value.byteLength;
        isolateQueued += value.byteLength;
        taken += value.byteLength;
        notify();
      }
    } catch (error) {
      failure = { error };
    } finally {
      notify();
    }
  };

  // Writes the queue into the client's stream at its pace, then the rest from the store.
  const feed = async () => {
    for (;;) {
      const chunk = queue.shift();
      if (chunk) {
        queued -= chunk.byteLength;
        isolateQueued -= chunk.byteLength;
        drained?.();
        drained = null;
        if (chunk.byteLength > 0) await writer.write(chunk);
        continue;
      }
      if (failure) throw failure.error;
      if (state === "ended") return writer.close();
      if (state === "detached") return fromStore();
      await new Promise<void>((r) => (wake = r));
    }
  };

  const fromStore = async () => {
    const body = await opts.stored();
    if (!body) throw new Error("the store did not keep the body a lagging client was detached from");
    const reader = body.getReader();
    try {
      for (let skip = taken; skip > 0; ) {
        const { done, value } = await reader.read();
        if (done) throw new Error("the stored body is shorter than what the client already had");
        if (value.byteLength > skip) await writer.write(value.subarray(skip));
        skip -= Math.min(skip, value.byteLength);
      }
    } catch (error) {
      await reader.cancel(error).catch(() => {});
      throw error;
    }
    reader.releaseLock();
    writer.releaseLock();
    // Natively from here: the pipe ends, errors or cancels the client's stream with the tier's body.
    await body.pipeTo(out.writable).catch(() => {});
  };

  void feed().catch(async (error) => {
    // The client left (its stream was cancelled) or the body failed: stop reading anything for it.
    const left = state;
    state = "gone";
    // What it queued and will never take is no longer held for it.
    isolateQueued -= queued;
    queued = 0;
    queue.length = 0;
    drained?.();
    notify();
    if (left === "reading") await source.cancel(error).catch(() => {});
    await writer.abort(error).catch(() => {});
  });
  void pump();
  return out.readable as ReadableStream<Uint8Array>;
}
