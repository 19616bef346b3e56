import { describe, expect, it } from "vitest";
import { MinuteBuckets, MINUTE_MS, type Minute } from "../../src/stats/buckets";
import { cleanUrl } from "../../src/stats/clean-url";
import { quantile, latencyBin, type Observation } from "../../src/stats/counts";
import { classify } from "../../src/stats/outcome";
import { statsAnswer } from "../../src/stats/summary";
import { compile } from "../support/harness";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function obs(route: string, outcome: Observation["outcome"], extra: Partial<Observation> = {}): Observation {
  return { route, outcome, bytes: 100, originMs: null, kvRead: false, ...extra };
}

describe("outcome from Cache-Status", () => {
  it.each([
    [200, "edge-cache; hit; ttl=50; detail=edge", { kind: "hit", tier: "edge" }],
    [200, "upstream; hit, edge-cache; hit; ttl=50; detail=kv", { kind: "hit", tier: "kv" }],
    [200, "edge-cache; hit; ttl=-5; detail=edge/stale-while-revalidate", { kind: "stale", tier: "edge", reason: "while-revalidate" }],
    [200, "edge-cache; fwd=stale; fwd-status=503; ttl=-5; detail=kv", { kind: "stale", tier: "kv", reason: "if-error" }],
    [200, "edge-cache; fwd=stale; fwd-status=304; stored; ttl=60; detail=edge", { kind: "hit", tier: "edge" }],
    [200, "edge-cache; fwd=uri-miss; collapsed; ttl=60; detail=edge", { kind: "hit", tier: "edge" }],
    [200, "edge-cache; fwd=uri-miss; stored; ttl=60", { kind: "miss-stored" }],
    [200, "edge-cache; fwd=uri-miss; detail=no-store", { kind: "miss", reason: "no-store" }],
    [200, 'edge-cache; fwd=uri-miss; detail="a b"', { kind: "miss", reason: "a b" }],
    [200, "edge-cache; fwd=bypass; detail=cookie", { kind: "bypass", reason: "cookie" }],
    [204, "edge-cache; fwd=method; detail=method", { kind: "bypass", reason: "method" }],
    [502, "edge-cache; fwd=uri-miss; fwd-status=502", { kind: "error", reason: "origin-502" }],
    [500, "edge-cache; fwd=uri-miss; detail=status", { kind: "error", reason: "status-500" }],
    [101, null, { kind: "bypass", reason: "upgrade" }],
  ] as const)("%s %s", (status, header, expected) => {
    expect(classify(status, header)).toEqual(expected);
  });

  it("an upstream cache's entry that mentions our name is not ours", () => {
    expect(classify(200, "my-edge-cache; hit, edge-cache; fwd=uri-miss; stored")).toEqual({ kind: "miss-stored" });
    expect(classify(200, "my-edge-cache; hit")).toEqual({ kind: "bypass", reason: "upgrade" });
  });
});

describe("minute buckets", () => {
  it("counts per route and minute, and adds up a window", () => {
    const b = new MinuteBuckets();
    b.record(obs("pages", { kind: "hit", tier: "edge" }), T0);
    b.record(obs("pages", { kind: "hit", tier: "kv" }, { kvRead: true }), T0 + 1000);
    b.record(obs("pages", { kind: "miss-stored", reason: "uri-miss" }, { originMs: 40 }), T0 + 2000, "https://s/a");
    b.record(obs("api", { kind: "bypass", reason: "cookie" }, { originMs: 10 }), T0 + MINUTE_MS, "https://s/api");
    b.record(obs("api", { kind: "bypass", reason: "cookie" }, { originMs: 10 }), T0 + MINUTE_MS + 1, "https://s/api");
    b.kvWrite("pages", T0 + 3000);
    const a = statsAnswer(b.window(T0 + MINUTE_MS, 60), "15m", "isolate", T0 + MINUTE_MS);
    expect(a.total).toMatchObject({ requests: 5, hits: { edge: 1, kv: 1 }, misses: 1, bypass: 2, stale: 0, errors: 0, hitRatio: 0.4 });
    expect(a.routes.pages).toMatchObject({ requests: 3, misses: 1, missesStored: 1, kv: { reads: 1, writes: 1 }, bytes: { cache: 200, origin: 100 } });
    expect(a.routes.api!.reasons.bypass).toEqual({ cookie: 2 });
    expect(a.series).toHaveLength(15);
    expect(a.series.slice(-2).map((p) => [p.requests, p.hits])).toEqual([[3, 2], [2, 0]]);
    expect(a.series.at(-1)!.t).toBe(new Date(T0 + MINUTE_MS).toISOString());
    expect(a.topMisses).toEqual([{ url: "https://s/api", reason: "cookie", count: 2 }, { url: "https://s/a", reason: "uri-miss", count: 1 }]);
  });

  it("a window leaves out what is older than it", () => {
    const b = new MinuteBuckets();
    b.record(obs("r", { kind: "hit", tier: "edge" }), T0);
    const now = T0 + 20 * MINUTE_MS;
    expect(statsAnswer(b.window(now, 1440), "15m", "isolate", now).total.requests).toBe(0);
    expect(statsAnswer(b.window(now, 1440), "1h", "isolate", now).total.requests).toBe(1);
  });

  it("keeps 24 hours at most, and trims old miss lists", () => {
    const b = new MinuteBuckets();
    for (let i = 0; i < 30; i++) b.record(obs("r", { kind: "miss", reason: "no-store" }), T0, `https://s/${i}`);
    for (let m = 1; m <= 1500; m++) b.record(obs("r", { kind: "hit", tier: "edge" }), T0 + m * MINUTE_MS);
    expect(b.size).toBe(1440);
    const late = T0 + 1500 * MINUTE_MS;
    expect(statsAnswer(b.window(late, 1440), "24h", "isolate", late).total.requests).toBe(1440);

    const c = new MinuteBuckets();
    for (let i = 0; i < 30; i++) c.record(obs("r", { kind: "miss", reason: "no-store" }), T0, `https://s/${i}`);
    const first = c.window(T0, 1)[0]!;
    expect(Object.keys(first.misses)).toHaveLength(20);
    expect(first.missesOther).toBe(10);
    c.record(obs("r", { kind: "hit", tier: "edge" }), T0 + 61 * MINUTE_MS);
    expect(Object.keys(c.window(T0 + 61 * MINUTE_MS, 1440)[0]!.misses)).toHaveLength(5);
  });

  it("bounds the routes of a minute and takes odd names as plain keys", () => {
    const b = new MinuteBuckets();
    for (let i = 0; i < 70; i++) b.record(obs(`r${i}`, { kind: "hit", tier: "edge" }), T0);
    b.record(obs("__proto__", { kind: "hit", tier: "edge" }), T0);
    const a = statsAnswer(b.window(T0, 1), "15m", "isolate", T0);
    expect(Object.keys(a.routes)).toHaveLength(65);
    expect(a.routes["(other)"]!.requests).toBe(7);
    expect(({} as Record<string, unknown>).requests).toBeUndefined();
  });

  it("adds minutes from elsewhere and empties on take", () => {
    const a = new MinuteBuckets();
    a.record(obs("r", { kind: "hit", tier: "kv" }), T0);
    a.record(obs("r", { kind: "miss", reason: "no-store" }), T0, "https://s/x");
    const sent: Minute[] = JSON.parse(JSON.stringify(a.take()));
    expect(a.size).toBe(0);
    const site = new MinuteBuckets();
    site.add(sent, T0);
    site.add(sent, T0);
    const answer = statsAnswer(site.window(T0, 60), "1h", "site", T0);
    expect(answer.total).toMatchObject({ requests: 4, hits: { edge: 0, kv: 2 }, misses: 2 });
    expect(answer.topMisses).toEqual([{ url: "https://s/x", reason: "no-store", count: 2 }]);
    site.add([{ ...sent[0]!, t: T0 - 25 * 60 * MINUTE_MS }], T0);
    expect(statsAnswer(site.window(T0, 1440), "24h", "site", T0).total.requests).toBe(4);
  });
});

describe("origin latency percentiles", () => {
  it("reads p50 and p95 within a bin's width", () => {
    const hist: Record<string, number> = {};
    for (let ms = 1; ms <= 100; ms++) hist[latencyBin(ms)] = (hist[latencyBin(ms)] ?? 0) + 1;
    const p50 = quantile(hist, 0.5)!;
    const p95 = quantile(hist, 0.95)!;
    expect(p50).toBeGreaterThanOrEqual(50);
    expect(p50).toBeLessThanOrEqual(60);
    expect(p95).toBeGreaterThanOrEqual(95);
    expect(p95).toBeLessThanOrEqual(114);
    expect(quantile({}, 0.5)).toBeNull();
  });
});

describe("URLs as the statistics keep them", () => {
  const rules = compile({
    version: 1,
    origin: "https://origin.test",
    routes: [{ name: "r", match: { path: "/*" }, key: { query: { ignore: ["utm_*"] } } }],
  });
  const route = rules.routes[0]!;
  it("drops the values of parameters the key drops and of secret-looking ones, and the fragment", () => {
    const url = new URL("https://u:p@s.test/a?utm_source=mail&id=7&access_token=abc&session=xyz#frag");
    expect(cleanUrl(url, route)).toBe("https://s.test/a?utm_source&id=7&access_token&session");
    expect(cleanUrl(new URL("https://s.test/b?token=1&q=2"), null)).toBe("https://s.test/b?token&q=2");
  });
});

describe("minutes from other isolates", () => {
  it("are taken only when every counter is a number", async () => {
    const { isMinute } = await import("../../src/stats/batch");
    const b = new MinuteBuckets();
    b.record(obs("r", { kind: "hit", tier: "edge" }), T0, undefined);
    b.record(obs("r", { kind: "miss", reason: "no-store" }), T0, "https://s/x");
    const good = JSON.parse(JSON.stringify(b.take()[0])) as Minute;
    expect(isMinute(good)).toBe(true);
    expect(isMinute({ ...good, t: "now" })).toBe(false);
    expect(isMinute({ ...good, routes: { r: { ...good.routes.r, hits: { edge: "1", kv: 0 } } } })).toBe(false);
    expect(isMinute({ ...good, routes: { r: { ...good.routes.r, bypass: { cookie: null } } } })).toBe(false);
    expect(isMinute({ ...good, misses: { u: { reason: 1, count: 1 } } })).toBe(false);
    expect(isMinute(null)).toBe(false);
  });
});
