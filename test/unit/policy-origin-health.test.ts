/** The origin health transitions (policy/origin-health.ts), as data. */
import { describe, expect, it } from "vitest";
import { admit, afterFailure, afterSuccess, HEALTHY, MAX_COOL_OFF_MS, type OriginHealth } from "../../src/policy/origin-health";

const setting = { failures: 3, coolOffMs: 30_000 };
const fail = (s: OriginHealth, now: number, probe = false) => afterFailure(s, now, setting, probe);

describe("origin health", () => {
  it("goes down on the Nth consecutive failure, for the cool-off", () => {
    let s = HEALTHY;
    s = fail(s, 0);
    s = fail(s, 1);
    expect(admit(s, 2, 1000).admission).toEqual({ go: "origin" });
    s = fail(s, 2);
    expect(s.downUntil).toBe(30_002);
    expect(admit(s, 10_002, 1000).admission).toEqual({ go: "down", retryAfter: 20 });
  });

  it("a success resets the count", () => {
    const s = fail(fail(HEALTHY, 0), 1);
    expect(fail(afterSuccess(), 2)).toEqual({ ...HEALTHY, failures: 1 });
    expect(s.failures).toBe(2);
  });

  it("after the cool-off one probe at a time, holding a lease", () => {
    const down = fail(fail(fail(HEALTHY, 0), 0), 0);
    const first = admit(down, 30_000, 5_000);
    expect(first.admission).toEqual({ go: "probe" });
    expect(admit(first.state, 31_000, 5_000).admission).toEqual({ go: "down", retryAfter: 4 });
    // A probe lost on the way: after its lease, another goes.
    expect(admit(first.state, 35_000, 5_000).admission).toEqual({ go: "probe" });
  });

  it("a failed probe doubles the cool-off up to 5 minutes; a failure of a request sent before the fall changes nothing", () => {
    let s = fail(fail(fail(HEALTHY, 0), 0), 0);
    expect(fail(s, 10, false)).toBe(s);
    const cools: number[] = [];
    for (let i = 0; i < 6; i++) {
      s = fail(admit(s, s.downUntil!, 1000).state, s.downUntil!, true);
      cools.push(s.coolOffMs);
    }
    expect(cools).toEqual([60_000, 120_000, 240_000, MAX_COOL_OFF_MS, MAX_COOL_OFF_MS, MAX_COOL_OFF_MS]);
    expect(afterSuccess()).toEqual(HEALTHY);
  });
});
