import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Coordinator } from "../../src/coordinator/object";
import type { WorkerEnv } from "../../src/env";
import { purgeCopyKey } from "../../src/purge/state";
import { rulesCopyKey } from "../../src/rules/active";
import { parseRulesCopy } from "../../src/rules/versions";
import { SITE } from "../support/harness";
import { overrideKv } from "../support/locations";
import { until } from "../support/until";

const purge = (site: string, path: string) => ({ site, target: { kind: "urls" as const, values: [`${SITE}${path}`] }, soft: false, at: Date.now(), horizonMs: 86_400_000 });
const upload = (site: string) => ({ site, version: crypto.randomUUID().slice(0, 16), text: JSON.stringify({ version: 1, routes: [] }), at: Date.now() });

/** The sequence of each KV copy the coordinator of `site` wrote (0: none). */
async function copied(site: string) {
  const purges = await env.CACHE_KV.getWithMetadata<{ sequence: number }>(purgeCopyKey(site), { type: "arrayBuffer" });
  const rules = parseRulesCopy(await env.CACHE_KV.get(rulesCopyKey(site), { type: "text" }));
  return { purges: purges.metadata?.sequence ?? 0, rules: rules?.sequence ?? 0 };
}

describe("the coordinator's alarm", () => {
  // Each case holds the alarm's KV put of one copy and records a change meanwhile.
  const cases = [
    { name: "a purge recorded while it writes the purge copy", held: purgeCopyKey, change: (o: Coordinator, site: string) => o.recordPurge(purge(site, "/b")), after: { purges: 2, rules: 1 } },
    { name: "an upload recorded while it writes the rules copy", held: rulesCopyKey, change: (o: Coordinator, site: string) => o.putRules(upload(site)), after: { purges: 1, rules: 2 } },
  ];
  for (const c of cases) {
    it(`${c.name}: the next alarm stays a second away (not the hourly prune), and writes it`, async () => {
      const site = `site-${crypto.randomUUID().slice(0, 8)}`;
      const stub = env.COORDINATOR.get(env.COORDINATOR.idFromName(site));

      let writing = false;
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const alarmAt = await runInDurableObject(stub, async (instance: Coordinator, state) => {
        await instance.recordPurge(purge(site, "/a"));
        await instance.putRules(upload(site));
        // The alarm they asked for starts now. While it runs it is not pending: getAlarm() answers null (runDurableObjectAlarm does the same).
        await state.storage.deleteAlarm();
        const object = instance as unknown as { env: WorkerEnv };
        const real = object.env;
        const key = c.held(site);
        object.env = {
          ...real,
          CACHE_KV: overrideKv(real.CACHE_KV, (kv) => ({
            put: async (name: string, ...rest: unknown[]) => {
              if (name === key) {
                writing = true;
                await released;
              }
              return kv.put(name, ...(rest as [string]));
            },
          })),
        };
        try {
          const alarm = instance.alarm();
          await until(() => writing, "the alarm writes the copy");
          await c.change(instance, site);
          release();
          await alarm;
        } finally {
          object.env = real;
        }
        return state.storage.getAlarm();
      });
      expect(alarmAt).not.toBeNull();
      expect(alarmAt! - Date.now()).toBeLessThanOrEqual(1_000);
      // The alarm that then runs brings the copy up to date (the runtime may have run it already: it is a second away in real time).
      await runDurableObjectAlarm(stub);
      expect(await copied(site)).toEqual(c.after);
    });
  }
});
