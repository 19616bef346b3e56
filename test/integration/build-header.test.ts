/**
 * `buildHeader` across locations (docs/deploys.md): once an
 * origin answer carries a new build, entries of the routes with the header stored
 * before it are stale everywhere (a soft purge recorded by the coordinator), and
 * other routes keep theirs. Two createWorker instances stand for two locations.
 */
import { describe, expect, it } from "vitest";
import { PURGE_BOUND_MS } from "../../src/purge/state";
import { aroundCoordinator, locations } from "../support/locations";
import { origin } from "../support/origin";

const bound = PURGE_BOUND_MS / 1000 + 0.1;

function site(prefix: string, wrap?: NonNullable<Parameters<typeof locations>[1]>["wrapCoordinator"]) {
  return locations(2, {
    defaults: { ttl: { edge: 600, kv: 0 } },
    routes: [
      { name: "pages", match: { path: `${prefix}/pages/*` }, buildHeader: "x-build-id" },
      { name: "assets", match: { path: `${prefix}/assets/*` }, buildHeader: "x-build-id" },
      { name: "plain", match: { path: `${prefix}/*` } },
    ],
    wrapCoordinator: wrap,
  });
}

const build = (id: string, body: string) => ({ body, headers: { "x-build-id": id, etag: `"${body}"` } });

describe("buildHeader", () => {
  it("a new build seen by one location makes the other location's older entries stale; other routes keep theirs", async () => {
    const prefix = origin.path("b");
    const { clock, sites } = site(prefix);
    const [a, b] = sites as [(typeof sites)[0], (typeof sites)[0]];
    const page = `${prefix}/pages/home`;
    const plain = `${prefix}/about`;
    const asset = `${prefix}/assets/app.js`;
    await origin.script(page, build("b1", "old home"), build("b1", "old home"), { status: 304, headers: { "x-build-id": "b2", etag: '"old home"' } });
    await origin.script(plain, { body: "about", headers: { "x-build-id": "b1" } });
    await origin.script(asset, build("b2", "new app"));
    for (const s of sites) {
      await s.get(page);
      await s.get(plain);
    }
    for (const s of sites) expect((await s.get(page)).cacheStatus).toMatch(/^edge-cache; hit/);
    // The deploy: location A sees build b2 first, on another route that has the header.
    expect((await a.get(asset)).text).toBe("new app");
    expect((await a.get(page)).cacheStatus).toMatch(/^edge-cache; fwd=stale; fwd-status=304; stored/);
    // Location B learns it with its next purge delta, within the bound.
    clock.advance(bound);
    const other = await b.get(page);
    expect(other.cacheStatus).toMatch(/^edge-cache; fwd=stale; fwd-status=304; stored/);
    expect(other.text).toBe("old home");
    expect((await b.get(page)).cacheStatus).toMatch(/^edge-cache; hit/);
    // A route without buildHeader keeps its entries.
    expect((await b.get(plain)).cacheStatus).toMatch(/^edge-cache; hit/);
    expect(await origin.count(plain)).toBe(2);
    expect(await origin.count(page)).toBe(4);
  });

  it("the first build seen is no deploy, an old server's answer during a rolling deploy is none either, and the coordinator hears of each value once per isolate", async () => {
    const prefix = origin.path("r");
    const calls: string[] = [];
    const { clock, sites } = site(prefix, () =>
      aroundCoordinator((method, call) => {
        if (method === "recordBuild") calls.push(method);
        return call();
      }),
    );
    const a = sites[0]!;
    const page = `${prefix}/pages/p`;
    await origin.script(page, build("b1", "p1"));
    await origin.script(`${prefix}/pages/new`, build("b2", "n"));
    await origin.script(`${prefix}/pages/old-server`, build("b1", "o"));
    await a.get(page);
    await a.get(`${prefix}/pages/x1`); // no header: nothing asked
    expect((await a.get(page)).cacheStatus).toMatch(/^edge-cache; hit/);
    await a.get(`${prefix}/pages/new`);
    // Purge times are kept in whole seconds, rounded up: an entry refreshed within that second would stay covered.
    clock.advance(2);
    expect((await a.get(page)).cacheStatus).toMatch(/^edge-cache; fwd=stale/);
    await a.get(`${prefix}/pages/old-server`);
    clock.advance(bound);
    expect((await a.get(page)).cacheStatus).toMatch(/^edge-cache; hit/);
    // The answer that brought the new build was stored before the purge was recorded: revalidated once, like the rest.
    expect((await a.get(`${prefix}/pages/new`)).cacheStatus).toMatch(/^edge-cache; fwd=stale/);
    // b1 (first sighting) and b2 (the deploy); b1 again is known here as the build b2 replaced.
    expect(calls).toHaveLength(2);
  });

  it("a coordinator that fails is logged; an isolate that saw the change itself still purges locally", async () => {
    const prefix = origin.path("f");
    let fail = false;
    const { sites } = site(prefix, () =>
      aroundCoordinator((method, call) => (fail && method === "recordBuild" ? Promise.reject(new Error("down")) : call())),
    );
    const a = sites[0]!;
    const page = `${prefix}/pages/p`;
    await origin.script(page, build("b1", "p1"), build("b1", "p1"));
    await origin.script(`${prefix}/assets/a`, build("b2", "a"));
    await a.get(page);
    fail = true;
    await a.get(`${prefix}/assets/a`);
    expect((await a.get(page)).cacheStatus).toMatch(/^edge-cache; fwd=stale/);
    expect(a.logs.filter((l) => l.msg === "coordinator-unavailable" && l.part === "build")).toHaveLength(1);
  });
});
