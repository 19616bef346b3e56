/**
 * The verdict the Worker runs on stored purge records (issue 21): records an older
 * version kept in KV (`purge:v1`) are replayed into the isolate's purge table when the
 * coordinator cannot be reached and it has written no copy yet.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyPurge, emptyPurgeState } from "../../src/purge/records";
import { PURGE_BOUND_MS, PURGE_KEY } from "../../src/purge/state";
import { aroundCoordinator, locations } from "../support/locations";
import { origin } from "../support/origin";

describe("records an older version kept in KV", () => {
  it("purge through the table when the coordinator is down: hard by route, soft by tag, newer entries untouched", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    let down = false;
    const routes = [
      { name: `hard-${id}`, match: { path: `/h${id}/*` }, ttl: { edge: 600 } },
      { name: `soft-${id}`, match: { path: `/s${id}/*` }, ttl: { edge: 600 }, tags: [`tag-${id}`] },
    ];
    const { clock, sites } = locations(1, {
      routes,
      wrapCoordinator: () => aroundCoordinator((method, call) => (down && method === "since" ? Promise.reject(new Error("coordinator down")) : call())),
    });
    const h = sites[0]!;
    const hard = `/h${id}/page`;
    const soft = `/s${id}/page`;
    for (const path of [hard, soft]) {
      await origin.script(path, { headers: { "cache-control": "max-age=600" } });
      await h.get(path);
      expect((await h.get(path)).cacheStatus).toMatch(/^edge-cache; hit/);
    }
    clock.advance(1);
    let state = applyPurge(emptyPurgeState(), { kind: "routes", values: [`hard-${id}`] }, false, clock.now());
    state = applyPurge(state, { kind: "tags", values: [`TAG-${id}`] }, true, clock.now());
    await env.CACHE_KV.put(PURGE_KEY, JSON.stringify(state));
    try {
      down = true;
      clock.advance(PURGE_BOUND_MS / 1000 + 1);
      expect((await h.get(hard)).cacheStatus).toContain("fwd=uri-miss");
      expect((await h.get(soft)).cacheStatus).toMatch(/fwd=stale/);
      // What was fetched after the purges is fresh again.
      expect((await h.get(hard)).cacheStatus).toMatch(/^edge-cache; hit/);
    } finally {
      await env.CACHE_KV.delete(PURGE_KEY);
    }
  });
});
