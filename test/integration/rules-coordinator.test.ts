import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Coordinator } from "../../src/coordinator/object";
import { migrate } from "../../src/coordinator/schema";
import { rulesCopyKey } from "../../src/rules/active";
import { aroundCoordinator, locations, overrideKv } from "../support/locations";
import { origin } from "../support/origin";

/** A rules file for the scripted origin whose one route caches `/h<id>/*` for 600 s. */
function rulesFor(id: string) {
  return JSON.stringify({ version: 1, origin: origin.url, routes: [{ name: `hot-${id}`, match: { path: `/h${id}/*` }, ttl: { edge: 600 } }] });
}

const stub = (site: string) => env.COORDINATOR.get(env.COORDINATOR.idFromName(site));
const HOT = { fixedRules: false } as const;

describe("rules uploads through the coordinator, across locations", () => {
  it("an upload at one location is served by the others within the bound, and GET lists what each isolate serves", async () => {
    const { clock, sites } = locations(3, HOT);
    const id = crypto.randomUUID().slice(0, 8);
    const path = `/h${id}/page`;
    await origin.script(path, { body: "v{n}", headers: { "cache-control": "max-age=600" } });
    // Every location loads the rules (none uploaded: the bundled file has no route for the path).
    for (const s of sites) expect((await s.admin("GET", "rules")).json).toMatchObject({ source: "bundled", sequence: 0 });

    const put = await sites[0]!.admin("PUT", "rules", rulesFor(id));
    expect(put.json).toMatchObject({ stored: true, sequence: 1 });
    expect((await sites[0]!.get(path)).cacheStatus).toMatch(/fwd=uri-miss; stored/);
    // Inside the refresh period the others still serve their copy...
    clock.advance(1);
    for (const s of sites.slice(1)) expect((await s.admin("GET", "rules")).json).toMatchObject({ source: "bundled" });
    // ...and past the bound (5 s) none does: a request waits for the coordinator first.
    clock.advance(5);
    for (const s of sites.slice(1)) expect((await s.get(path)).cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);

    // Each isolate reports what it serves when it next asks.
    clock.advance(5);
    for (const s of sites.slice(1)) await s.get(path);
    const status = (await sites[0]!.admin("GET", "rules")).json!;
    expect(status.coordinator).toMatchObject({ sequence: 1, version: put.json?.version, seed: false });
    const isolates = status.isolates as { isolate: string; sequence: number; version: string; source: string }[];
    expect(isolates.map((i) => i.isolate).sort()).toEqual((await Promise.all(sites.map(async (s) => (await s.admin("GET", "rules")).json!.isolate))).sort());
    expect(isolates.every((i) => i.sequence === 1 && i.version === put.json?.version && i.source === "coordinator")).toBe(true);
  });

  it("concurrent uploads through 4 locations get distinct sequence numbers, and the last one serves everywhere", async () => {
    const { clock, sites } = locations(4, HOT);
    for (const s of sites) await s.admin("GET", "rules");
    const files = Array.from({ length: 12 }, (_, i) => rulesFor(`${crypto.randomUUID().slice(0, 6)}${i}`));
    const answers = await Promise.all(files.map((text, i) => sites[i % 4]!.admin("PUT", "rules", text)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const sequences = answers.map((a) => a.json!.sequence as number);
    expect([...sequences].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const last = answers.find((a) => a.json!.sequence === 12)!.json!.version;
    // In order: recorded times never go back.
    const times = [...answers].sort((a, b) => (a.json!.sequence as number) - (b.json!.sequence as number)).map((a) => Date.parse(a.json!.uploadedAt as string));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    clock.advance(5);
    for (const s of sites) expect((await s.admin("GET", "rules")).json).toMatchObject({ version: last, sequence: 12, coordinator: { sequence: 12, version: last } });
  });

  it("a coordinator restart keeps the versions: the next upload follows the last", async () => {
    const { clock, sites } = locations(2, HOT);
    const first = await sites[0]!.admin("PUT", "rules", rulesFor(crypto.randomUUID().slice(0, 8)));
    await abortAllDurableObjects();
    clock.advance(5);
    expect((await sites[1]!.admin("GET", "rules")).json).toMatchObject({ source: "coordinator", version: first.json?.version, sequence: 1, coordinator: { sequence: 1 } });
    expect((await sites[1]!.admin("PUT", "rules", rulesFor(crypto.randomUUID().slice(0, 8)))).json).toMatchObject({ sequence: 2 });
  });

  it("a coordinator that cannot be reached: its KV copy serves, with one log line until it answers again", async () => {
    let broken = true;
    const down = aroundCoordinator(async (method, call) => {
      if (broken && (method === "since" || method.startsWith("rules"))) throw new Error("coordinator down");
      return call();
    });
    const { clock, sites, site } = locations(2, { ...HOT, wrapCoordinator: (i) => (i === 1 ? down : undefined) });
    const id = crypto.randomUUID().slice(0, 8);
    const path = `/h${id}/page`;
    await origin.script(path, { body: "v{n}", headers: { "cache-control": "max-age=600" } });
    expect((await sites[1]!.admin("GET", "rules")).json).toMatchObject({ source: "bundled", coordinator: null });

    const put = await sites[0]!.admin("PUT", "rules", rulesFor(id));
    // The coordinator writes its KV copy a second after a change (an alarm); run it now.
    expect(await runDurableObjectAlarm(stub(site))).toBe(true);
    expect(JSON.parse((await env.CACHE_KV.get(rulesCopyKey(site)))!)).toMatchObject({ v: 2, sequence: 1, version: put.json?.version });

    for (let i = 0; i < 3; i++) {
      clock.advance(5);
      expect((await sites[1]!.get(path)).cacheStatus).toMatch(/^edge-cache; (fwd=uri-miss; stored|hit)/);
    }
    expect((await sites[1]!.admin("GET", "rules")).json).toMatchObject({ source: "kv", version: put.json?.version, sequence: 1 });
    const line = expect.objectContaining({ part: "state", fallback: "kv", error: "coordinator down" });
    expect(sites[1]!.logs.filter((l) => l.msg === "coordinator-unavailable")).toEqual([line]);

    // A broken copy never replaces rules that work.
    await env.CACHE_KV.put(rulesCopyKey(site), "{not json");
    clock.advance(5);
    expect((await sites[1]!.admin("GET", "rules")).json).toMatchObject({ source: "kv", version: put.json?.version, refused: { source: "kv" } });
    expect((await sites[1]!.get(path)).cacheStatus).toMatch(/^edge-cache; hit/);
    clock.advance(5);
    await sites[1]!.get(path);
    // Logged once, not at every refresh.
    expect(sites[1]!.logs.filter((l) => l.msg === "rules-invalid")).toEqual([expect.objectContaining({ source: "kv" })]);

    // Back: the coordinator's own answer serves again, and an outage later logs again once.
    broken = false;
    clock.advance(5);
    expect((await sites[1]!.admin("GET", "rules")).json).toMatchObject({ source: "coordinator", sequence: 1, refused: null });
    broken = true;
    clock.advance(5);
    await sites[1]!.get(path);
    expect(sites[1]!.logs.filter((l) => l.msg === "coordinator-unavailable")).toEqual([line, line]);
  });

  it("the KV fallback never goes back: an isolate that serves sequence 2 keeps it when the copy it reads is still 1", async () => {
    let broken = false;
    let staleCopy: string | null = null;
    const site = `site-${crypto.randomUUID().slice(0, 8)}`;
    const { clock, sites } = locations(2, {
      ...HOT,
      site,
      wrapCoordinator: (i) => (i === 1 ? aroundCoordinator(async (method, call) => (broken && method === "since" ? Promise.reject(new Error("coordinator down")) : call())) : undefined),
      // This location's KV still answers the copy before the last (KV caches a read for about 60 s).
      wrapKv: (kv, i) => (i === 1 ? overrideKv(kv, (target) => ({ get: (key: string, options?: never) => (key === rulesCopyKey(site) && staleCopy !== null ? Promise.resolve(staleCopy) : target.get(key, options)) })) : kv),
    });
    const id = crypto.randomUUID().slice(0, 8);
    const path = `/h${id}/page`;
    await origin.script(path, { body: "v{n}", headers: { "cache-control": "max-age=600" } });
    // Version 1 is the broken file (it stops caching the path), version 2 its fix.
    const route = (settings: object) => JSON.stringify({ version: 1, origin: origin.url, routes: [{ name: `hot-${id}`, match: { path: `/h${id}/*` }, ...settings }] });
    expect((await sites[0]!.admin("PUT", "rules", route({ bypass: true }))).json).toMatchObject({ sequence: 1 });
    expect(await runDurableObjectAlarm(stub(site))).toBe(true);
    const first = (await env.CACHE_KV.get(rulesCopyKey(site)))!;
    const fixed = await sites[0]!.admin("PUT", "rules", route({ ttl: { edge: 600 } }));
    expect(fixed.json).toMatchObject({ sequence: 2 });
    expect(await runDurableObjectAlarm(stub(site))).toBe(true);
    expect((await sites[1]!.get(path)).cacheStatus).toMatch(/^edge-cache; fwd=uri-miss; stored/);

    staleCopy = first;
    broken = true;
    clock.advance(5);
    expect((await sites[1]!.get(path)).cacheStatus).toMatch(/^edge-cache; hit/);
    expect((await sites[1]!.admin("GET", "rules")).json).toMatchObject({ sequence: 2, version: fixed.json?.version });
    expect(sites[1]!.logs.filter((l) => l.msg === "coordinator-unavailable")).toEqual([expect.objectContaining({ part: "state", fallback: "kv" })]);
  });
});

describe("seeds during a gradual deployment (two Worker versions with different RULES_JSON at once)", () => {
  it("each isolate start records nothing already recorded: the newest deployment's file serves, an upload after it outranks it, a new deployment's seed outranks that", async () => {
    const site = `site-${crypto.randomUUID().slice(0, 8)}`;
    const id = crypto.randomUUID().slice(0, 8);
    const file = (name: string) => JSON.stringify({ version: 1, origin: origin.url, routes: [{ name: `${name}-${id}`, match: { path: `/h${id}/*` }, ttl: { edge: 600 } }] });
    /** A new isolate of the Worker version whose RULES_JSON is `name`'s file. */
    const isolate = (name: string) => locations(1, { ...HOT, site, env: { RULES_JSON: file(name) } });
    const serves = async (started: ReturnType<typeof isolate>) => {
      started.clock.advance(5);
      const got = (await started.sites[0]!.admin("GET", "rules")).json!;
      return { sequence: got.sequence, route: ((got.rules as { routes: { name: string }[] }).routes[0]?.name ?? "").split("-")[0] };
    };

    const a1 = isolate("a");
    expect(await serves(a1)).toEqual({ sequence: 1, route: "a" });
    // Version b rolls out beside a: its first isolate's seed is new, so it serves everywhere.
    const b1 = isolate("b");
    expect(await serves(b1)).toEqual({ sequence: 2, route: "b" });
    expect(await serves(a1)).toEqual({ sequence: 2, route: "b" });
    // New isolates of either version start while it rolls out: neither seed is new.
    expect(await serves(isolate("a"))).toEqual({ sequence: 2, route: "b" });
    expect(await serves(isolate("b"))).toEqual({ sequence: 2, route: "b" });

    const put = await b1.sites[0]!.admin("PUT", "rules", file("upload"));
    expect(put.json).toMatchObject({ sequence: 3 });
    expect(await serves(isolate("a"))).toEqual({ sequence: 3, route: "upload" });
    expect(await serves(isolate("b"))).toEqual({ sequence: 3, route: "upload" });
    expect(await serves(a1)).toEqual({ sequence: 3, route: "upload" });

    // A new deployment's seed (a file never recorded) outranks the upload; the older versions' isolates never take it back.
    expect(await serves(isolate("c"))).toEqual({ sequence: 4, route: "c" });
    expect(await serves(isolate("a"))).toEqual({ sequence: 4, route: "c" });
    expect(await serves(isolate("b"))).toEqual({ sequence: 4, route: "c" });
  });

  it("a coordinator from before the seed table keeps its seeds recorded: an upload since is not overwritten on upgrade", async () => {
    const site = `site-${crypto.randomUUID().slice(0, 8)}`;
    const report = { site, isolate: "test", sequence: 0, version: null, source: "none" };
    const seed = (id: string) => ({ site, id, version: id, text: rulesFor(id) });
    const newest = await runInDurableObject(stub(site), async (instance: Coordinator, state) => {
      await instance.seedRules(seed("a"), 0, report);
      await instance.seedRules(seed("b"), 0, report);
      await instance.putRules({ site, version: "upload", text: rulesFor("u"), at: Date.now() });
      // What an older version left: no seed table; b, the last seed, only in its meta once 20 newer versions have gone.
      state.storage.sql.exec("DROP TABLE rules_seeds");
      state.storage.sql.exec("DELETE FROM rules_versions WHERE seed = 'b'");
      migrate(state.storage.sql);
      await instance.seedRules(seed("a"), 0, report);
      return instance.seedRules(seed("b"), 0, report);
    });
    expect(newest).toMatchObject({ sequence: 3, latest: { sequence: 3, version: "upload", seed: null } });
  });
});
