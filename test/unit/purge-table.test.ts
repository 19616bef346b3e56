import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_ROWS, PurgeTable, ROW_BYTES, targetHash, type PurgedEntry, type Verdict } from "../../src/purge/index-table";
import { applyPurge, emptyPurgeState, replayState, type PurgeKind, type PurgeTarget } from "../../src/purge/records";

const T = 1_700_000_000_000;
const URL_A = new URL("https://site.test/blog/a?x=1");
const entry = (storedAt: number, tags: string[] = ["html", "Product-1"], route = "pages") => ({ storedAt, route, tags });
const rank = { hard: 2, soft: 1, null: 0 } as const;

interface Purge {
  target: PurgeTarget;
  soft: boolean;
  at: number;
}

/** What the purges say of an entry, exactly (every purge kept, times in ms, no hashing): the reference the table is held to. */
function exactVerdict(purges: readonly Purge[], e: PurgedEntry, url: URL): Verdict {
  const form = `${url.host}${url.pathname}${url.search}`;
  const covers = (t: PurgeTarget): boolean => {
    if (t.kind === "everything") return true;
    if (t.kind === "routes") return t.values.includes(e.route);
    if (t.kind === "urls") return t.values.includes(url.href);
    if (t.kind === "tags") return t.values.some((v) => e.tags.some((tag) => tag.toLowerCase() === v.toLowerCase()));
    return t.values.some((prefix) => form.startsWith(prefix));
  };
  const matching = purges.filter((p) => p.at >= (e.requestedAt ?? e.storedAt) && covers(p.target));
  if (matching.some((p) => !p.soft)) return "hard";
  return matching.length > 0 ? "soft" : null;
}

describe("PurgeTable", () => {
  it("matches each kind of target, applied directly or replayed from stored records", () => {
    const targets: [PurgeTarget, "hard" | "soft" | null][] = [
      [{ kind: "everything" }, "hard"],
      [{ kind: "routes", values: ["pages"] }, "hard"],
      [{ kind: "routes", values: ["assets"] }, null],
      [{ kind: "urls", values: [URL_A.href] }, "hard"],
      [{ kind: "urls", values: ["https://site.test/blog/a"] }, null],
      [{ kind: "tags", values: ["PRODUCT-1"] }, "hard"],
      [{ kind: "prefixes", values: ["site.test/blog/"] }, "hard"],
      [{ kind: "prefixes", values: ["site.test/blog/a?x"] }, "hard"],
      [{ kind: "prefixes", values: ["other.test/blog/"] }, null],
    ];
    for (const [target, verdict] of targets) {
      const table = new PurgeTable();
      table.apply(target, false, T + 5_000);
      expect(table.verdict(entry(T), URL_A), JSON.stringify(target)).toBe(verdict);
      const replayed = new PurgeTable();
      replayState(applyPurge(emptyPurgeState(), target, false, T + 5_000), replayed);
      expect(replayed.verdict(entry(T), URL_A), JSON.stringify(target)).toBe(verdict);
    }
  });

  it("a soft purge after a hard one never weakens it for older entries", () => {
    const table = new PurgeTable();
    table.apply({ kind: "urls", values: [URL_A.href] }, false, T + 5_000);
    table.apply({ kind: "urls", values: [URL_A.href] }, true, T + 10_000);
    expect(table.verdict(entry(T), URL_A)).toBe("hard");
    expect(table.verdict(entry(T + 7_000), URL_A)).toBe("soft");
    expect(table.verdict(entry(T + 11_000), URL_A)).toBe(null);
  });

  it("is never weaker than the exact verdict, whatever purges arrive in whatever order", () => {
    const kinds: PurgeKind[] = ["urls", "tags", "routes", "prefixes"];
    const values = { urls: [URL_A.href, "https://site.test/b"], tags: ["html", "x"], routes: ["pages", "r"], prefixes: ["site.test/", "site.test/blog/a?"] };
    const purge = fc.record({ kind: fc.constantFrom(...kinds), i: fc.nat(1), soft: fc.boolean(), dt: fc.integer({ min: -20_000, max: 20_000 }) });
    fc.assert(
      fc.property(fc.array(purge, { maxLength: 12 }), fc.integer({ min: -20_000, max: 20_000 }), (purges, storedDt) => {
        const table = new PurgeTable();
        const applied: Purge[] = [];
        for (const p of purges) {
          const target = { kind: p.kind, values: [values[p.kind][p.i]!] };
          table.apply(target, p.soft, T + p.dt);
          applied.push({ target, soft: p.soft, at: T + p.dt });
        }
        const e = entry(T + storedDt);
        const fromTable = table.verdict(e, URL_A);
        const fromRecords = exactVerdict(applied, e, URL_A);
        expect(rank[`${fromTable}`]).toBeGreaterThanOrEqual(rank[`${fromRecords}`]);
        // Stronger only within the second a purge's time is rounded up to.
        if (fromTable !== fromRecords) expect(purges.some((p) => T + storedDt > T + p.dt && Math.ceil((T + p.dt) / 1000) * 1000 >= T + storedDt)).toBe(true);
      }),
    );
  });

  it("holds 16 bytes a row, and past MAX_ROWS drops the oldest and revalidates what they could cover", () => {
    const table = new PurgeTable();
    const extra = 1_000;
    const rows = new Float64Array((MAX_ROWS + extra) * 3);
    for (let i = 0; i < MAX_ROWS + extra; i++) rows.set([targetHash("urls", `https://site.test/p${i}`), T + i * 1000, 0], i * 3);
    table.addRows(rows);
    expect(table.size).toBe(MAX_ROWS);
    expect(table.bytes).toBeLessThanOrEqual((MAX_ROWS + 4_096) * ROW_BYTES);
    // The newest rows stay exact.
    const newest = new URL(`https://site.test/p${MAX_ROWS + extra - 1}`);
    expect(table.verdict(entry(T + (MAX_ROWS + extra - 2) * 1000), newest)).toBe("hard");
    // An entry stored before the dropped rows' time is revalidated, not served fresh and not refetched...
    expect(table.verdict(entry(T), new URL("https://site.test/never-purged"))).toBe("soft");
    // ...and an entry stored after it is untouched.
    expect(table.verdict(entry(T + (MAX_ROWS + extra) * 1000), new URL("https://site.test/never-purged"))).toBe(null);
  });

  it("prune drops rows past the horizon", () => {
    const table = new PurgeTable();
    table.apply({ kind: "tags", values: ["old"] }, false, T);
    table.apply({ kind: "tags", values: ["new"] }, false, T + 60_000);
    table.prune(T + 30_000);
    expect(table.size).toBe(1);
    expect(table.verdict(entry(T - 1, ["new"]), URL_A)).toBe("hard");
  });
});

describe("a cold load into an empty table", () => {
  it("gives the same verdicts, size and sequence of rows as adding them one by one (duplicates merged)", () => {
    const count = 20_000;
    const rows = new Float64Array(count * 3);
    for (let i = 0; i < count; i++) {
      // Every 10th row repeats an earlier target with a later soft purge.
      const target = i % 10 === 9 ? i - 5 : i;
      rows.set([targetHash("urls", `https://site.test/p/${target}`), i % 10 === 9 ? 0 : T + i * 1000, i % 10 === 9 ? T + i * 2000 : 0], i * 3);
    }
    const bulk = new PurgeTable();
    bulk.addRows(rows);
    const oneByOne = new PurgeTable();
    for (let i = 0; i < count; i++) oneByOne.add(rows[i * 3]!, rows[i * 3 + 1]!, rows[i * 3 + 2]!);
    expect(bulk.size).toBe(oneByOne.size);
    expect([...bulk.rows()]).toEqual([...oneByOne.rows()]);
    for (const i of [0, 4, 5, 9, 19_995, 19_999]) {
      for (const storedAt of [T - 1, T + i * 1000, T + i * 1500 + 1]) {
        const url = new URL(`https://site.test/p/${i}`);
        expect(bulk.verdict(entry(storedAt), url)).toBe(oneByOne.verdict(entry(storedAt), url));
      }
    }
  });
});
