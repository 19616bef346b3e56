import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { coordinatorFor, siteName } from "../../src/coordinator/client";
import type { WorkerEnv } from "../../src/env";
import { aroundCoordinator, locations } from "../support/locations";
import { origin } from "../support/origin";

describe("several locations over shared bindings", () => {
  it("each location has its own Cache API: a copy stored in one is a KV hit, not an edge hit, in another", async () => {
    const { sites } = locations(2, { routes: [{ name: "all", match: { path: "/*" }, ttl: { edge: 600, kv: 600 } }] });
    const path = origin.path();
    await origin.script(path, { body: "shared", headers: { "cache-control": "max-age=600" } });
    expect((await sites[0]!.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
    expect((await sites[0]!.get(path)).cacheStatus).toMatch(/hit; .*detail=edge$/);
    const there = await sites[1]!.get(path);
    expect(there.text).toBe("shared");
    expect(there.cacheStatus).toMatch(/hit; .*detail=kv$/);
    expect(await origin.count(path)).toBe(1);
  });

  it("reaches the site's coordinator through the wrapper", async () => {
    const seen: string[] = [];
    const wrap = aroundCoordinator((method, call) => {
      seen.push(method);
      return call();
    });
    const t = await coordinatorFor(env, siteName(env as WorkerEnv), wrap).time();
    expect(Math.abs(t - Date.now())).toBeLessThan(60_000);
    expect(seen).toEqual(["time"]);
  });
});
