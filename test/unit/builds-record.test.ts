/** Which origin answers are a new build (src/builds/record.ts). */
import { describe, expect, it } from "vitest";
import { FLAP_MS, nextBuild } from "../../src/builds/record";

describe("nextBuild", () => {
  it("the first value is current without being a change; the same value changes nothing", () => {
    const first = nextBuild(null, "b1", 0);
    expect(first).toEqual({ record: { value: "b1", at: 0, recent: [] }, changed: false });
    expect(nextBuild(first.record, "b1", 5).changed).toBe(false);
  });

  it("another value is a new build; the replaced one is an old server's for FLAP_MS, then a new build again (a rollback)", () => {
    const b1 = nextBuild(null, "b1", 0).record;
    const b2 = nextBuild(b1, "b2", 1000);
    expect(b2.changed).toBe(true);
    expect(b2.record).toEqual({ value: "b2", at: 1000, recent: [{ value: "b1", until: 1000 + FLAP_MS }] });
    expect(nextBuild(b2.record, "b1", 2000)).toMatchObject({ changed: false, record: { value: "b2" } });
    expect(nextBuild(b2.record, "b1", 1000 + FLAP_MS)).toMatchObject({ changed: true, record: { value: "b1", recent: [{ value: "b2" }] } });
  });

  it("remembers at most 8 replaced values", () => {
    let r = nextBuild(null, "v0", 0).record;
    for (let i = 1; i <= 12; i++) r = nextBuild(r, `v${i}`, i).record;
    expect(r.recent.map((x) => x.value)).toEqual(["v11", "v10", "v9", "v8", "v7", "v6", "v5", "v4"]);
  });
});
