/**
 * What an isolate knows of the site's uploaded rules, as data (`RulesKnown`), and the
 * copy it reads when the coordinator cannot be reached: the newest version the
 * coordinator keeps in KV (`rules:v2:<site>`), else what an older version kept
 * (`rules:v1`). An isolate started from another seed than the copy's serves its own
 * `RULES_JSON` instead. Compiling, and refusing a broken version, is rules/active.ts's.
 */
import { within, type Clock } from "../clock";
import { KV_READ_TIMEOUT_MS } from "../coordinator/timing";
import { LEGACY_RULES_KEY, parseLegacyRules, parseRulesCopy, rulesCopyKey, type RulesRecord } from "./versions";

export interface RulesKnown {
  /** The coordinator's sequence number of `record` (0: none recorded). */
  sequence: number;
  /** The newest version known; null: the deployment's own rules serve. */
  record: RulesRecord | null;
  /** "coordinator": its answer (asked here, or through the location's copy); "kv": its KV copy; "deployed": none. */
  via: "coordinator" | "kv" | "deployed";
  /** The KV copy read was not a rules copy: its raw value (the rules known before keep serving). */
  broken?: string;
}

/** The rules from KV; rejects when KV cannot be read. `seedId`: this isolate's seed, if it has one. */
export async function rulesFromKv(kv: KVNamespace, site: string, clock: Clock, seedId: string | null, previous: RulesKnown | null): Promise<RulesKnown> {
  const read = async (key: string) => {
    const got = await within(clock, KV_READ_TIMEOUT_MS, kv.get(key, { type: "text" }), "timeout" as const);
    if (got === "timeout") throw new Error(`no answer from KV in ${KV_READ_TIMEOUT_MS} ms`);
    return got;
  };
  const deployed: RulesKnown = { sequence: 0, record: null, via: "deployed" };
  const raw = await read(rulesCopyKey(site));
  const copy = parseRulesCopy(raw);
  if (raw !== null && copy === null) return { sequence: previous?.sequence ?? 0, record: previous?.record ?? null, via: "kv", broken: raw };
  if (copy && (seedId === null || copy.seedId === seedId)) return { sequence: copy.sequence, record: copy, via: "kv" };
  if (copy || seedId !== null) return deployed;
  const legacy = parseLegacyRules(await read(LEGACY_RULES_KEY));
  return legacy ? { sequence: 0, record: { sequence: 0, seed: null, ...legacy }, via: "kv" } : deployed;
}
