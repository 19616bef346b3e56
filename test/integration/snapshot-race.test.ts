import { describe, expect, it } from "vitest";
import { aroundCoordinator, locations } from "../support/locations";
import { origin } from "../support/origin";
import { until } from "../support/until";

describe("a refresh begun before this isolate's own upload", () => {
  it("lands after the upload answered, and the isolate still serves the uploaded rules", async () => {
    // The next rules refresh asks the coordinator at once (before the upload), but its
    // answer is held until the test lets it go: a slow answer, read before the write.
    let hold = false;
    let asked = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = aroundCoordinator(async (method, call) => {
      if (method !== "since" || !hold) return call();
      hold = false;
      const answer = await call();
      asked = true;
      await released;
      return answer;
    });
    const id = crypto.randomUUID().slice(0, 8);
    const path = `/h${id}/page`;
    const route = (settings: object) => ({ version: 1, origin: origin.url, routes: [{ name: `hot-${id}`, match: { path: `/h${id}/*` }, ...settings }] });
    // The deployment's rules never cache the path; the upload caches it.
    const deployed = JSON.stringify(route({ bypass: true }));
    const uploaded = JSON.stringify(route({ ttl: { edge: 600 } }));
    const { clock, sites } = locations(1, { fixedRules: false, env: { RULES_JSON: deployed }, wrapCoordinator: () => slow });
    const site = sites[0]!;
    await origin.script(path, { body: "v{n}", headers: { "cache-control": "max-age=600" } });

    expect((await site.admin("GET", "rules")).json).toMatchObject({ source: "RULES_JSON", sequence: 1 });
    // Past the refresh period: this request serves the copy and starts the (held) refresh.
    clock.advance(2.5);
    hold = true;
    const before = site.start(path);
    expect((await before.response).headers.get("cache-status")).toMatch(/fwd=bypass/);
    await until(() => asked, "the refresh asked the coordinator");

    const put = await site.admin("PUT", "rules", uploaded);
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ stored: true, sequence: 2 });

    // The refresh answers now, with what the coordinator had before the upload.
    release();
    await before.done();

    const after = await site.get(path);
    expect([after.status, after.text]).toEqual([200, "v2"]);
    expect(after.cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);
    expect((await site.get(path)).cacheStatus).toMatch(/^edge-cache; hit/);
    expect((await site.admin("GET", "rules")).json).toMatchObject({ source: "coordinator", sequence: 2, version: put.json?.version });
  });
});
