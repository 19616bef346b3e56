/**
 * The one delta call: what a caller lacks of the site's shared state, purges (with
 * builds, which are purges) and rules together, since the sequence numbers it has.
 * One call per refresh, not one per feature; a seed (the deployment's RULES_JSON) rides
 * along until it has been offered once (src/rules/versions.ts).
 */
import { purgesSince, type PurgeDelta } from "../purge/log";
import { rulesSince, seedRules, type RulesDelta, type RulesSeed } from "../rules/versions";

/** The sequence numbers the caller's copy is complete up to (0: none). */
export interface SiteAsk {
  purges: number;
  rules: number;
}

export interface SiteDelta {
  purges: PurgeDelta;
  rules: RulesDelta;
}

export function siteSince(sql: SqlStorage, asked: SiteAsk, seed: RulesSeed | null, now: number): SiteDelta {
  return { purges: purgesSince(sql, asked.purges), rules: seed ? seedRules(sql, seed, asked.rules, now) : rulesSince(sql, asked.rules) };
}
