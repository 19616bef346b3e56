import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PurgeTable, type PurgedEntry } from "../../src/purge/index-table";
import {
  addRecord,
  applyPurge,
  boundState,
  emptyPurgeState,
  mergeStates,
  parsePurgeState,
  RECORD_HORIZON_MS,
  replayState,
  type PurgeKind,
  type PurgeState,
} from "../../src/purge/records";

const T = 1_700_000_000_000;
const URL_A = new URL("https://site.test/blog/a?x=1");
const entry = (storedAt: number, tags: string[] = ["html", "Product-1"], route = "pages") => ({ storedAt, route, tags });

/** The Worker's verdict on a stored state: its records replayed into the table every lookup checks (whole seconds, rounded up). */
function workerVerdict(state: PurgeState, e: PurgedEntry, url: URL) {
  const table = new PurgeTable();
  replayState(state, table);
  return table.verdict(e, url);
}

describe("the verdict on stored records", () => {
  const cases: [string, PurgeState, "hard" | "soft" | null][] = [
    ["nothing recorded", emptyPurgeState(), null],
    ["everything, at the store time: purged", applyPurge(emptyPurgeState(), { kind: "everything" }, false, T), "hard"],
    ["everything, before the store: not purged", applyPurge(emptyPurgeState(), { kind: "everything" }, false, T - 1), null],
    ["by route", applyPurge(emptyPurgeState(), { kind: "routes", values: ["pages"] }, false, T + 5), "hard"],
    ["another route", applyPurge(emptyPurgeState(), { kind: "routes", values: ["assets"] }, false, T + 5), null],
    ["by URL (the normalized href)", applyPurge(emptyPurgeState(), { kind: "urls", values: [URL_A.href] }, false, T + 5), "hard"],
    ["another URL", applyPurge(emptyPurgeState(), { kind: "urls", values: ["https://site.test/blog/a"] }, false, T + 5), null],
    ["by tag, in any case", applyPurge(emptyPurgeState(), { kind: "tags", values: ["PRODUCT-1"] }, true, T + 5), "soft"],
    ["by prefix, host/path form", applyPurge(emptyPurgeState(), { kind: "prefixes", values: ["site.test/blog/"] }, false, T + 5), "hard"],
    ["by prefix that only matches the query part", applyPurge(emptyPurgeState(), { kind: "prefixes", values: ["site.test/blog/a?x"] }, false, T + 5), "hard"],
    ["by prefix of another host", applyPurge(emptyPurgeState(), { kind: "prefixes", values: ["other.test/blog/"] }, false, T + 5), null],
    [
      "soft by tag and hard by route: hard wins",
      applyPurge(applyPurge(emptyPurgeState(), { kind: "tags", values: ["html"] }, true, T + 9), { kind: "routes", values: ["pages"] }, false, T + 5),
      "hard",
    ],
  ];
  for (const [name, state, verdict] of cases) {
    it(name, () => expect(workerVerdict(state, entry(T), URL_A)).toBe(verdict));
  }
});

describe("records of one target", () => {
  it("keep the latest hard, and a soft one only when it is newer", () => {
    expect(addRecord([], { at: 5, soft: true })).toEqual([{ at: 5, soft: true }]);
    expect(addRecord([{ at: 5, soft: false }], { at: 9, soft: true })).toEqual([{ at: 5, soft: false }, { at: 9, soft: true }]);
    expect(addRecord([{ at: 5, soft: true }], { at: 9, soft: false })).toEqual([{ at: 9, soft: false }]);
    expect(addRecord([{ at: 9, soft: false }], { at: 5, soft: false })).toEqual([{ at: 9, soft: false }]);
  });

  it("a soft purge after a hard one does not weaken it for older entries", () => {
    // Whole seconds: the table keeps a target's times so.
    let s = applyPurge(emptyPurgeState(), { kind: "urls", values: [URL_A.href] }, false, T + 5_000);
    s = applyPurge(s, { kind: "urls", values: [URL_A.href] }, true, T + 10_000);
    expect(workerVerdict(s, entry(T), URL_A)).toBe("hard");
    expect(workerVerdict(s, entry(T + 7_000), URL_A)).toBe("soft");
    expect(workerVerdict(s, entry(T + 11_000), URL_A)).toBe(null);
  });
});

describe("bounding the state", () => {
  it("a hard purge of everything supersedes every older record; a soft one only the older soft ones", () => {
    let s = applyPurge(emptyPurgeState(), { kind: "tags", values: ["a"] }, false, T);
    s = applyPurge(s, { kind: "tags", values: ["b"] }, true, T);
    s = applyPurge(s, { kind: "urls", values: [URL_A.href] }, false, T + 100);
    s = applyPurge(s, { kind: "everything" }, true, T + 50);
    expect(s).toEqual({ ...emptyPurgeState(), everything: [{ at: T + 50, soft: true }], tags: { a: [{ at: T, soft: false }] }, urls: { [URL_A.href]: [{ at: T + 100, soft: false }] } });
    s = applyPurge(s, { kind: "everything" }, false, T + 60);
    expect(s).toEqual({ ...emptyPurgeState(), everything: [{ at: T + 60, soft: false }], urls: { [URL_A.href]: [{ at: T + 100, soft: false }] } });
  });

  it("drops records older than the horizon", () => {
    const s = applyPurge(emptyPurgeState(), { kind: "tags", values: ["old"] }, false, T);
    expect(boundState(s, T + RECORD_HORIZON_MS)).toEqual(s);
    expect(boundState(s, T + RECORD_HORIZON_MS + 1)).toEqual(emptyPurgeState());
  });

  it("past the cap, the oldest records fold into a purge of everything at their time", () => {
    let s = emptyPurgeState();
    for (let i = 0; i < 5; i++) s = applyPurge(s, { kind: "tags", values: [`t${i}`] }, i % 2 === 0, T + i);
    const bounded = boundState(s, T + 10, { tags: 2, urls: 2, prefixes: 2, routes: 2 });
    expect(bounded).toEqual({ ...emptyPurgeState(), everything: [{ at: T + 1, soft: false }, { at: T + 2, soft: true }], tags: { t3: [{ at: T + 3, soft: false }], t4: [{ at: T + 4, soft: true }] } });
  });

  it("never un-purges: whatever is bounded, every entry's verdict is at least as strong", () => {
    const kinds: PurgeKind[] = ["tags", "routes", "urls", "prefixes"];
    const values = { tags: ["a", "b", "c"], routes: ["r1", "r2"], urls: ["https://s.test/a", "https://s.test/b"], prefixes: ["s.test/", "s.test/a"] };
    const purge = fc.record({
      kind: fc.constantFrom<PurgeKind | "everything">(...kinds, "everything"),
      pick: fc.nat(2),
      soft: fc.boolean(),
      // Whole seconds, so the table's rounding up cannot make the unbounded side stronger.
      at: fc.integer({ min: 0, max: 100 }).map((s) => s * 1000),
    });
    const strength = { hard: 2, soft: 1, null: 0 } as const;
    fc.assert(
      fc.property(fc.array(purge, { maxLength: 25 }), fc.integer({ min: 0, max: 110 }).map((s) => s * 1000), fc.constantFrom(...values.tags), fc.constantFrom(...values.urls), (purges, storedAt, tag, url) => {
        let full = emptyPurgeState();
        let bounded = emptyPurgeState();
        for (const p of purges) {
          const target = p.kind === "everything" ? { kind: p.kind } : { kind: p.kind, values: [values[p.kind][p.pick % values[p.kind].length]!] };
          full = { ...full, ...mergeUnbounded(full, target, p.soft, T + p.at) };
          bounded = boundState(applyPurge(bounded, target, p.soft, T + p.at), T + 200_000, { tags: 1, routes: 1, urls: 1, prefixes: 1 });
        }
        const e = { storedAt: T + storedAt, route: "r1", tags: [tag] };
        const before = workerVerdict(full, e, new URL(url));
        const after = workerVerdict(bounded, e, new URL(url));
        expect(strength[String(after) as keyof typeof strength]).toBeGreaterThanOrEqual(strength[String(before) as keyof typeof strength]);
      }),
    );
  });
});

/** Adds a record with no bounding at all: the reference the bounded state is compared with. */
function mergeUnbounded(state: PurgeState, target: { kind: PurgeKind | "everything"; values?: string[] }, soft: boolean, at: number): PurgeState {
  if (target.kind === "everything") return { ...state, everything: addRecord(state.everything, { at, soft }) };
  const map = { ...state[target.kind] };
  for (const v of target.values ?? []) {
    const key = target.kind === "tags" ? v.toLowerCase() : v;
    map[key] = addRecord(map[key] ?? [], { at, soft });
  }
  return { ...state, [target.kind]: map };
}

describe("stored form", () => {
  it("round-trips, and refuses other versions and malformed records", () => {
    const s = applyPurge(applyPurge(emptyPurgeState(), { kind: "tags", values: ["a"] }, true, T), { kind: "everything" }, true, T - 5);
    expect(parsePurgeState(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(parsePurgeState({ ...s, v: 2 })).toBeNull();
    expect(parsePurgeState({ ...s, tags: { a: [{ at: "x", soft: true }] } })).toBeNull();
    expect(parsePurgeState({ ...s, urls: [] })).toBeNull();
    expect(parsePurgeState(null)).toBeNull();
  });
});

describe("merging", () => {
  it("mergeStates is what both sides know", () => {
    const a = applyPurge(emptyPurgeState(), { kind: "tags", values: ["a"] }, false, T);
    const b = applyPurge(emptyPurgeState(), { kind: "tags", values: ["a"] }, true, T + 5);
    expect(mergeStates(a, b, T)).toEqual({ ...emptyPurgeState(), tags: { a: [{ at: T, soft: false }, { at: T + 5, soft: true }] } });
  });
});
