/**
 * src/http/lagging-client.ts on its own, in workerd: a source built in the test, a
 * small bound, and a "store" that is a promise the test resolves. The logic checked:
 * the client never gets a wrong byte, whatever it read before the detach; it waits for
 * the store, not the source; a store that kept nothing cuts it short; a client that
 * keeps up is never detached; a client that leaves cancels the source.
 */
import { describe, expect, it } from "vitest";
import { detachWhenLagging, ISOLATE_QUEUE_BYTES, isolateQueuedBytes } from "../../src/http/lagging-client";

const BYTES = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);

/** `bytes` in chunks of `size` (each after a macrotask turn when `slow`), and whether it was cancelled. */
function source(bytes: Uint8Array, size: number, slow = false) {
  let at = 0;
  const seen = { cancelled: false, pulled: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (slow) await new Promise((r) => setTimeout(r, 0));
        if (at >= bytes.length) return c.close();
        c.enqueue(bytes.slice(at, at + size));
        at += size;
        seen.pulled = at;
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

/** The store: resolves when the test says, with the whole body (in chunks of another size) or nothing. */
function store() {
  let settle!: (body: ReadableStream<Uint8Array> | null) => void;
  const stored = new Promise<ReadableStream<Uint8Array> | null>((r) => (settle = r));
  return { stored: () => stored, keep: () => settle(source(BYTES, 64).stream), fail: () => settle(null) };
}

async function rest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<{ bytes: number[]; error: unknown }> {
  const bytes: number[] = [];
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) bytes.push(...r.value);
    return { bytes, error: null };
  } catch (error) {
    return { bytes, error };
  }
}

/**
 * What the client can hold when it is detached: the chunk it read, the one being handed
 * to it, and the queue (at least the bound, at most a chunk over it).
 */
const heldAtDetach = (offset: number) => offset >= 100 && offset <= 100 + 3 * 30;

/** Lets the pump run: a few macrotask turns, no clock. */
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
};

describe("detachWhenLagging", () => {
  it("a client that lags past the bound is detached, waits for the store and gets the rest from it, exact", async () => {
    const src = source(BYTES, 30);
    const s = store();
    const offsets: number[] = [];
    const client = detachWhenLagging(src.stream, { bound: 100, detachable: true, stored: s.stored, detached: (o) => offsets.push(o) });
    const reader = client.getReader();
    const first = await reader.read();
    await turns();
    expect(offsets).toHaveLength(1);
    expect(heldAtDetach(offsets[0]!)).toBe(true);
    expect(src.seen.cancelled).toBe(true);
    expect(src.seen.pulled).toBeLessThan(BYTES.length);
    s.keep();
    const got = await rest(reader);
    expect(got.error).toBe(null);
    expect([...first.value!, ...got.bytes]).toEqual([...BYTES]);
  });

  it("a store that kept nothing: the detached client gets a true prefix and then an error", async () => {
    const src = source(BYTES, 30);
    const s = store();
    const offsets: number[] = [];
    const reader = detachWhenLagging(src.stream, { bound: 100, detachable: true, stored: s.stored, detached: (o) => offsets.push(o) }).getReader();
    const first = await reader.read();
    await turns();
    s.fail();
    const got = await rest(reader);
    expect(got.error).toBeInstanceOf(Error);
    const all = [...first.value!, ...got.bytes];
    expect(all.length).toBe(offsets[0]);
    expect(all).toEqual([...BYTES.subarray(0, all.length)]);
  });

  it("not detachable: past the bound it waits for the client (the source is paced), and never asks the store", async () => {
    const src = source(BYTES, 30);
    let asked = false;
    const reader = detachWhenLagging(src.stream, { bound: 100, detachable: false, stored: async () => ((asked = true), null) }).getReader();
    await reader.read();
    await turns();
    expect(heldAtDetach(src.seen.pulled)).toBe(true);
    const got = await rest(reader);
    expect(got.error).toBe(null);
    expect(asked).toBe(false);
    expect(src.seen.cancelled).toBe(false);
  });

  it("a client that keeps up is never detached", async () => {
    const src = source(BYTES, 30, true);
    const offsets: number[] = [];
    const reader = detachWhenLagging(src.stream, { bound: 100, detachable: true, stored: async () => null, detached: (o) => offsets.push(o) }).getReader();
    const got = await rest(reader);
    expect(got.error).toBe(null);
    expect(got.bytes).toEqual([...BYTES]);
    expect(offsets).toEqual([]);
  });

  it("a client that leaves before the bound cancels the source", async () => {
    const src = source(BYTES, 30, true);
    const reader = detachWhenLagging(src.stream, { bound: 10_000, detachable: true, stored: async () => null }).getReader();
    await reader.read();
    await reader.cancel("gone");
    await turns();
    expect(src.seen.cancelled).toBe(true);
  });

  it("lagging clients together queue no more than the isolate's budget: past it, the next is detached at once", async () => {
    const MiB = 1024 * 1024;
    // Enough clients, each under its own bound, to pass the isolate's budget together.
    const count = ISOLATE_QUEUE_BYTES / (2 * MiB) + 2;
    const big = new Uint8Array(4 * MiB);
    const offsets: number[] = [];
    const readers = Array.from({ length: count }, () => {
      const src = source(big, MiB);
      return detachWhenLagging(src.stream, { bound: 3 * MiB, detachable: true, stored: async () => null, detached: (o) => offsets.push(o) }).getReader();
    });
    for (const r of readers) await r.read();
    await turns(50);
    // Each alone may queue 3 MiB (54 MiB in all); together at most the budget, and a chunk each over it.
    expect(isolateQueuedBytes()).toBeLessThanOrEqual(ISOLATE_QUEUE_BYTES + count * MiB);
    expect(offsets.some((o) => o < 4 * MiB)).toBe(true);
    for (const r of readers) await r.cancel("done");
    await turns();
    expect(isolateQueuedBytes()).toBe(0);
  });
});
