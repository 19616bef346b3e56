/** The origin health rules (policy/origin-health.ts), as data, with explicit times. */
import { describe, expect, it } from "vitest";
import {
  admit, afterAnswer, afterFailure, afterNeither, HEALTHY, MAX_COOL_OFF_MS, observe, weigh, type HealthCount, type OriginHealth,
} from "../../src/policy/origin-health";

const setting = { failures: 3, coolOffMs: 30_000 };
/** A failure of a request sent at `sent`, seen at `seen` (default: at once). */
const fail = (s: OriginHealth, sent: number, seen = sent, probe = false) => afterFailure(s, sent, seen, setting, probe);
const isUp = (s: OriginHealth, now: number) => admit(s, now, 1000).admission.go === "origin";

describe("weigh: what one fetch says about the origin", () => {
  it("by default only a connection failure or Cloudflare's 'origin unreachable' statuses are failures", () => {
    expect(weigh({ error: "connection" })).toBe("failure");
    for (const status of [521, 522, 523, 525, 526, 530]) expect(weigh({ status })).toBe("failure");
    for (const status of [200, 304, 404, 500, 502, 503, 504, 520]) expect(weigh({ status })).toBe("answer");
    expect(weigh({ error: "timeout" })).toBe("neither");
    expect(weigh({ status: 524 })).toBe("neither");
  });

  it('count: ["timeout"] adds timeouts and 524; count: ["5xx"] adds every status of 500 or more', () => {
    const timeout: HealthCount[] = ["timeout"];
    expect([weigh({ error: "timeout" }, timeout), weigh({ status: 524 }, timeout), weigh({ status: 500 }, timeout)]).toEqual(["failure", "failure", "answer"]);
    const serverError: HealthCount[] = ["5xx"];
    expect([weigh({ status: 500 }, serverError), weigh({ status: 524 }, serverError), weigh({ error: "timeout" }, serverError)]).toEqual(["failure", "failure", "neither"]);
    expect(weigh({ status: 499 }, ["timeout", "5xx"])).toBe("answer");
  });
});

describe("counting failures by the time their requests were sent", () => {
  it("down on the Nth counted failure, for the cool-off", () => {
    let s = fail(fail(HEALTHY, 0), 1);
    expect(isUp(s, 2)).toBe(true);
    s = fail(s, 2);
    expect(s.downUntil).toBe(30_002);
    expect(admit(s, 10_002, 1000).admission).toEqual({ go: "down", retryAfter: 20 });
  });

  it("an answer to a request sent at t cancels the failures of requests sent at or before t", () => {
    const s = fail(fail(HEALTHY, 0), 10);
    expect(afterAnswer(s, 10).failures).toEqual([]);
    expect(afterAnswer(s, 5).failures).toEqual([10]);
    // Two more failures after an answer sent at 5: 10, 20, 30 count, and that is 3.
    expect(isUp(fail(fail(afterAnswer(s, 5), 20), 30), 30)).toBe(false);
  });

  it("a failure seen after an answer to a request sent later never counts (a slow endpoint's timeout)", () => {
    // Six requests sent at 0..5 time out at 30_000..30_005; a page sent at 10_000 was answered at 10_050.
    let s = afterAnswer(HEALTHY, 10_000);
    for (let i = 0; i < 6; i++) s = fail(s, i, 30_000 + i);
    expect(s.failures).toEqual([]);
    expect(isUp(s, 30_010)).toBe(true);
    // A failure of a request sent after that answer counts.
    expect(fail(s, 10_001).failures).toEqual([10_001]);
  });

  it("an answer sent at the same instant as a failure cancels it (a coarse clock errs towards up)", () => {
    expect(fail(afterAnswer(HEALTHY, 7), 7).failures).toEqual([]);
    expect(afterAnswer(fail(HEALTHY, 7), 7).failures).toEqual([]);
  });

  it("the failing route's own N decides", () => {
    const s = fail(fail(HEALTHY, 0), 1);
    expect(afterFailure(s, 2, 2, { failures: 10, coolOffMs: 1000 }, false).downUntil).toBeNull();
    expect(afterFailure(s, 2, 2, { failures: 2, coolOffMs: 1000 }, false).downUntil).toBe(1002);
  });
});

describe("while down", () => {
  const down = fail(fail(fail(HEALTHY, 0), 100), 200, 250);

  it("after the cool-off one probe at a time, holding a lease; a lost probe's lease runs out", () => {
    const first = admit(down, 30_250, 5_000);
    expect(first.admission).toEqual({ go: "probe" });
    expect(admit(first.state, 31_250, 5_000).admission).toEqual({ go: "down", retryAfter: 4 });
    expect(admit(first.state, 35_250, 5_000).admission).toEqual({ go: "probe" });
  });

  it("an answer to a request sent at or after the latest failure ends it; an older answer does not", () => {
    expect(afterAnswer(down, 150).downUntil).toBe(30_250);
    const up = afterAnswer(down, 200);
    expect(up.downUntil).toBeNull();
    expect(up.failures).toEqual([]);
    expect(up.answeredSent).toBe(200);
    expect(isUp(afterAnswer(down, 30_250), 30_251)).toBe(true);
  });

  it("a failed probe doubles the cool-off up to 5 minutes; another request's failure changes nothing", () => {
    expect(fail(down, 210, 300, false)).toBe(down);
    let s = down;
    const cools: number[] = [];
    for (let i = 0; i < 6; i++) {
      const at = s.downUntil!;
      s = fail(admit(s, at, 1000).state, at, at + 10, true);
      cools.push(s.coolOffMs);
      expect(s.lastFailureSent).toBe(at);
    }
    expect(cools).toEqual([60_000, 120_000, 240_000, MAX_COOL_OFF_MS, MAX_COOL_OFF_MS, MAX_COOL_OFF_MS]);
  });

  it("a probe that comes to neither (an uncounted timeout) frees the lease for the next request, and the origin stays down", () => {
    const probing = admit(down, 30_250, 5_000).state;
    const after = afterNeither(probing, true);
    expect(after.downUntil).toBe(30_250);
    expect(admit(after, 31_000, 5_000).admission).toEqual({ go: "probe" });
    expect(afterNeither(probing, false)).toBe(probing);
    expect(afterNeither(HEALTHY, true)).toBe(HEALTHY);
  });

  it("observe weighs by the route's count: a 500 is an answer unless the route counts 5xx", () => {
    const probing = admit(down, 30_250, 5_000).state;
    expect(observe(probing, { status: 500 }, 30_250, 30_260, setting, true).downUntil).toBeNull();
    expect(observe(probing, { status: 500 }, 30_250, 30_260, { ...setting, count: ["5xx"] }, true).coolOffMs).toBe(60_000);
    expect(observe(probing, { error: "timeout" }, 30_250, 32_250, setting, true).probeUntil).toBeNull();
  });
});
