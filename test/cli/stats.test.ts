import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MinuteBuckets } from "../../src/stats/buckets";
import { statsAnswer } from "../../src/stats/summary";
import { cli, json, recordingServer } from "../support/cli";

const TOKEN = "stats-token-123";
const NOW = Date.UTC(2026, 0, 1, 12, 0, 30);

/** A real answer, built by the Worker's own code from known counts. */
function answer(window: "15m" | "1h" | "24h") {
  const b = new MinuteBuckets();
  const hit = { kind: "hit", tier: "edge" } as const;
  for (let i = 0; i < 3; i++) b.record({ route: "pages", outcome: hit, bytes: 1000, originMs: null, kvRead: false }, NOW);
  b.record({ route: "pages", outcome: { kind: "miss-stored", reason: "uri-miss" }, bytes: 1000, originMs: 20, kvRead: false }, NOW, "https://www.example.com/new");
  b.record({ route: "api", outcome: { kind: "bypass", reason: "cookie" }, bytes: 50, originMs: 8, kvRead: false }, NOW, "https://www.example.com/api/me");
  return statsAnswer(b.window(NOW, 1440), window, "isolate", NOW);
}

let server: Awaited<ReturnType<typeof recordingServer>>;
beforeAll(async () => {
  server = await recordingServer((r) => json(200, answer(new URL(r.url, "http://x").searchParams.get("window") as "1h")));
});
afterAll(async () => {
  await server.close();
});

describe("edge-cache stats", () => {
  it("asks GET /.edge-cache/stats with the token and prints hit ratio per route, then the top misses", async () => {
    const before = server.seen.length;
    const run = await cli(["stats", "--site", server.url], { env: { EDGE_CACHE_TOKEN: TOKEN } });
    expect(server.seen.slice(before).map((r) => [r.method, r.url, r.authorization])).toEqual([["GET", "/.edge-cache/stats?window=1h", `Bearer ${TOKEN}`]]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        `${server.url}, last 1h, counted by one isolate only (no coordinator answered)`,
        "",
        "route   requests  hit ratio  edge  kv  misses  bypass  stale  errors  from cache  from origin  origin p50/p95",
        "api            1      0.0 %     0   0       0       1      0       0         0 B         50 B          9/9 ms",
        "pages          4     75.0 %     3   0       1       0      0       0      3.0 kB       1.0 kB        22/22 ms",
        "(site)         5     60.0 %     3   0       1       1      0       0      3.0 kB       1.1 kB         9/22 ms",
        "",
        "Top misses (fetched from the origin)",
        "  count  reason    url",
        "      1  cookie    https://www.example.com/api/me",
        "      1  uri-miss  https://www.example.com/new",
        "",
      ].join("\n"),
    );
  });

  it("--window and --json pass the Worker's answer through", async () => {
    const run = await cli(["stats", "--site", server.url, "--window", "24h", "--json"], { env: { EDGE_CACHE_TOKEN: TOKEN } });
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout) as ReturnType<typeof answer>;
    expect(parsed.window).toBe("24h");
    expect(parsed.series).toHaveLength(1440);
    expect(parsed.total.requests).toBe(5);
  });

  it("refuses an unknown window, a missing site and a missing token before calling", async () => {
    const before = server.seen.length;
    const bad = await cli(["stats", "--site", server.url, "--window", "2h"], { env: { EDGE_CACHE_TOKEN: TOKEN } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --window must be one of 15m, 1h, 24h, got "2h"');
    expect((await cli(["stats"], { env: { EDGE_CACHE_TOKEN: TOKEN } })).stderr).toContain("error: name the site with --site");
    expect((await cli(["stats", "--site", server.url])).stderr).toContain("error: set EDGE_CACHE_TOKEN");
    expect(server.seen.length).toBe(before);
  });
});
