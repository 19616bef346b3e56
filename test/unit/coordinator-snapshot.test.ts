import { describe, expect, it } from "vitest";
import { createSnapshot } from "../../src/coordinator/snapshot";
import { TestClock } from "../support/harness";

/** A load the test answers by hand: each call waits until the test resolves it. */
function handLoads<T>() {
  const calls: { previous: T | null; resolve: (v: T) => void }[] = [];
  const load = (previous: T | null) => new Promise<T>((resolve) => calls.push({ previous, resolve }));
  return { calls, load };
}

function snapshotOf<T>(load: (previous: T | null) => Promise<T>, initial: () => T) {
  const clock = new TestClock();
  const snapshot = createSnapshot<T>({ clock, load, initial, refreshMs: 2_000, boundMs: 5_000, waitMs: 300, firstWaitMs: 2_600 });
  return { clock, snapshot };
}

/** String loads answered by hand, the first one already answered "v1". */
async function loadedOnce() {
  const { calls, load } = handLoads<string>();
  const { clock, snapshot } = snapshotOf(load, () => "initial");
  const first = snapshot.get();
  calls[0]!.resolve("v1");
  return { calls, clock, snapshot, first: await first };
}

/** Lets every promise callback that can run, run (one macrotask turn, no clock involved). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const PENDING = Symbol("pending");
const now = async <T>(p: Promise<T>) => {
  await settle();
  return Promise.race([p, Promise.resolve(PENDING)]);
};

describe("createSnapshot: a load begun before set()", () => {
  it("does not replace the value set, and the copy is loaded again from it at once", async () => {
    const { calls, clock, snapshot, first } = await loadedOnce();
    expect(first).toBe("v1");
    const loadedAt = snapshot.loadedAt;

    // Past the refresh period: the get serves the copy and starts a background load.
    clock.advance(2.5);
    expect(await snapshot.get()).toBe("v1");
    expect(calls).toHaveLength(2);
    // This isolate writes while that load is in flight, then the load answers with what it read before.
    snapshot.set("written");
    calls[1]!.resolve("read-before-the-write");
    await settle();

    expect(snapshot.peek()).toBe("written");
    expect(await snapshot.get()).toBe("written");
    // The discarded load claims no freshness; the copy is loaded again, from the value set.
    expect(snapshot.loadedAt).toBe(loadedAt);
    expect(calls).toHaveLength(3);
    expect(calls[2]!.previous).toBe("written");
    calls[2]!.resolve("after-the-write");
    await settle();
    expect(snapshot.peek()).toBe("after-the-write");
    expect(snapshot.loadedAt).toBe(clock.now());
  });

  it("overtaken twice: the last value set stays, and the next get starts a fresh load", async () => {
    const { calls, clock, snapshot } = await loadedOnce();
    const loadedAt = snapshot.loadedAt;

    clock.advance(2.5);
    await snapshot.get();
    snapshot.set("w1");
    calls[1]!.resolve("stale-1");
    await settle();
    snapshot.set("w2");
    calls[2]!.resolve("stale-2");
    await settle();

    expect(snapshot.peek()).toBe("w2");
    expect(snapshot.loadedAt).toBe(loadedAt);
    expect(calls).toHaveLength(3);
    // Not fresh: the next get loads again (and serves the value set meanwhile).
    expect(await snapshot.get()).toBe("w2");
    expect(calls).toHaveLength(4);
    expect(calls[3]!.previous).toBe("w2");
  });

  it("a request waiting past the bound gets a copy loaded after the write, not the one read before it", async () => {
    const { calls, clock, snapshot } = await loadedOnce();

    clock.advance(6);
    const waiting = snapshot.get();
    expect(await now(waiting)).toBe(PENDING);
    snapshot.set("written");
    calls[1]!.resolve("read-before-the-write");
    expect(await now(waiting)).toBe(PENDING);
    calls[2]!.resolve("after-the-write");
    expect(await waiting).toBe("after-the-write");
  });
});

/** The purge store's way (src/purge/state.ts): `load` adds to the table it is given, in place. */
class Table {
  rows = new Set<string>();
}

describe("createSnapshot: a copy changed in place (purge tables)", () => {
  it("this isolate's own purge during the first load is kept, and the first request gets it with everything else", async () => {
    const calls: { previous: Table | null; resolve: () => void }[] = [];
    const load = (previous: Table | null) =>
      new Promise<Table>((resolve) => {
        calls.push({
          previous,
          resolve: () => {
            const table = previous ?? new Table();
            table.rows.add("purged-elsewhere");
            resolve(table);
          },
        });
      });
    const { snapshot } = snapshotOf(load, () => new Table());

    const firstRequest = snapshot.get();
    // purge/state.ts local(): the table there is (a new one before the first load) gets the purge.
    const local = snapshot.peek() ?? new Table();
    snapshot.set(local);
    local.rows.add("purged-here");
    calls[0]!.resolve();
    expect(await now(firstRequest)).toBe(PENDING);

    // Loaded again into the table that holds the purge; another purge of this isolate meanwhile
    // sets that same table, which the load changes in place: nothing to discard.
    expect(calls[1]!.previous).toBe(local);
    snapshot.set(local);
    local.rows.add("purged-here-too");
    calls[1]!.resolve();
    const got = await firstRequest;
    expect(got).toBe(local);
    expect([...got.rows].sort()).toEqual(["purged-elsewhere", "purged-here", "purged-here-too"]);
    expect(snapshot.loadedAt).not.toBeNull();
    expect(calls).toHaveLength(2);
  });

  it("a copy only ever set, never loaded, waits for a load as long as having none", async () => {
    const { calls, load } = handLoads<Table>();
    const { clock, snapshot } = snapshotOf(load, () => new Table());
    const local = new Table();
    local.rows.add("purged-here");
    snapshot.set(local);

    const request = snapshot.get();
    clock.advance(0.3);
    // It lacks every purge made elsewhere: 0.3 s (the wait of a copy that was loaded) is not enough.
    expect(await now(request)).toBe(PENDING);
    clock.advance(2.3);
    expect(await request).toBe(local);
    expect(calls).toHaveLength(1);
  });
});
