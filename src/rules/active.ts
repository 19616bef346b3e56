/**
 * Which rules run, and how an upload reaches every isolate. In order of precedence:
 *   1. rules given to `createWorker` (tests);
 *   2. the newest version the site's coordinator recorded (src/rules/versions.ts):
 *      an upload (`PUT /.edge-cache/rules`), or the file the deployment was started
 *      with (`RULES_JSON`, which `npm start -- --rules` sets), recorded once per
 *      start as a seed, so a local upload takes effect exactly as in production;
 *   3. the deployment's own rules: `RULES_JSON`, else the bundled config/routes.json.
 *
 * Propagation (src/coordinator/timing.ts): the isolate that took an upload serves it
 * at once; the others learn it with the site's shared state (src/coordinator/
 * site-state.ts: one delta call per location, purges and rules together), never
 * serving state older than 5 s without first waiting up to 0.3 s for a fresh one.
 * When the coordinator cannot be reached, the copy it writes to KV (`rules:v2:<site>`,
 * src/rules/kv-copy.ts) serves instead, with KV's bounds (about 60 s to other
 * locations), logged once until the coordinator answers again.
 *
 * Invariant 6: a version that fails to parse or validate never replaces rules that
 * work; the last good rules (else the deployment's own) keep serving, and the problem
 * is logged and shown by `GET /.edge-cache/rules`.
 */
import bundled from "../../config/routes.json";
import { answerWithin, systemClock, within, type Clock } from "../clock";
import type { CoordinatorApi } from "../coordinator/client";
import type { SiteState } from "../coordinator/site-state";
import { BOUND_MS, COORDINATOR_TIMEOUT_MS, COORDINATOR_WRITE_TIMEOUT_MS, REFRESH_MS } from "../coordinator/timing";
import { sha256Hex } from "../policy/digest";
import type { RulesKnown } from "./kv-copy";
import { parseRules, parseRulesText } from "./parse";
import type { CompiledRules, Problem } from "./types";
import { LEGACY_RULES_KEY, rulesCopyKey, type IsolateReport, type RulesRecord, type RulesSeed, type RulesStatus } from "./versions";

export { rulesCopyKey };
/** Where uploads lived before the coordinator (still read when it has no copy; deleted by DELETE). */
export const RULES_KV_KEY = LEGACY_RULES_KEY;
/** How old an isolate's copy may get before it is refreshed (in the background). */
export const RULES_REFRESH_MS = REFRESH_MS;
/** The propagation bound: no isolate serves a copy older than this without asking first. */
export const RULES_BOUND_MS = BOUND_MS;

type Log = (line: Record<string, unknown>) => void;

/** No routes: every request passes through uncached. The last resort when nothing valid exists. */
const PASS_THROUGH: CompiledRules = { version: 1, origin: null, routes: [], source: { version: 1, routes: [] } };

/** "coordinator": an upload, as the coordinator has it; "kv": an upload, from its KV copy (fallback). */
export type RulesSourceName = "options" | "RULES_JSON" | "coordinator" | "kv" | "bundled";

/** The rules serving now, where they came from, and why a newer copy is not serving (if so). */
export interface ActiveRules {
  rules: CompiledRules;
  source: RulesSourceName;
  /** A hash of the file's text (16 hex digits): tells two uploads apart. */
  version: string;
  /** The coordinator's sequence number of the version serving (0: none recorded). */
  sequence: number;
  /** When the version was recorded (ms since epoch); null for the deployment's own rules. */
  uploadedAt: number | null;
  /** Problems of a copy that was refused (a broken version, an invalid RULES_JSON). */
  refused: { source: RulesSourceName; problems: Problem[] } | null;
}

export type UploadResult =
  | { ok: true; rules: CompiledRules; version: string; sequence: number; uploadedAt: number; problems: Problem[]; active: ActiveRules }
  | { ok: false; problems: Problem[] };

export interface RulesSource {
  /** This isolate's id, as the coordinator lists it. */
  readonly isolate: string;
  /** The rules for this request; `background` (ctx.waitUntil) keeps a refresh it starts alive. */
  rules(background?: (p: Promise<unknown>) => void): Promise<CompiledRules>;
  active(): Promise<ActiveRules>;
  /** The deployment's own rules (options, else RULES_JSON, else the bundled file), whatever upload serves: their origins are allowed. */
  own(): Promise<ActiveRules>;
  /** Validates a rules file and has the coordinator record it; an invalid one is refused with every problem. Rejects when it cannot be recorded. */
  upload(text: string): Promise<UploadResult>;
  /** Records a removal: the deployment's own rules serve again. Rejects when it cannot be recorded. */
  remove(): Promise<ActiveRules>;
  /** The coordinator's newest version and what each isolate reported; null when it cannot be reached. */
  status(): Promise<RulesStatus | null>;
  /** The deployment's seed (RULES_JSON, when valid), for the shared state to offer once. */
  seed(): Promise<RulesSeed | null>;
  /** What this isolate serves when it knows `known`, for the coordinator's list. */
  report(known: RulesKnown | null): Pick<IsolateReport, "sequence" | "version" | "source">;
}

export interface RulesEnv {
  RULES_JSON?: string;
  RULES_SEED?: string;
  CACHE_KV: KVNamespace;
}

export interface RulesSourceOptions {
  env: RulesEnv;
  site: string;
  /** The site's coordinator; without one, the KV copy is all there is. */
  coordinator?: () => CoordinatorApi;
  /** The site's shared state (made after this source: it asks for the seed and the report). */
  shared: () => SiteState;
  log: Log;
  clock?: Clock;
  fixed?: CompiledRules;
}

let bundledActive: Promise<{ active: ActiveRules; problems: Problem[] }> | null = null;

/** The bundled config/routes.json, compiled once per isolate (pass-through if it were ever invalid). */
function bundledCompiled() {
  bundledActive ??= (async () => {
    const result = parseRules(bundled);
    const refused = result.rules ? null : { source: "bundled" as const, problems: result.problems };
    const active: ActiveRules = { rules: result.rules ?? PASS_THROUGH, source: "bundled", version: await versionOf(JSON.stringify(bundled)), sequence: 0, uploadedAt: null, refused };
    return { active, problems: result.problems };
  })();
  return bundledActive;
}

/** One isolate's view of the rules; `fixed` rules (tests) win over everything. */
export function createRulesSource(options: RulesSourceOptions): RulesSource {
  const { env, site, coordinator, log, fixed, shared } = options;
  const clock = options.clock ?? systemClock;
  const isolate = crypto.randomUUID().slice(0, 8);
  let deployedActive: ActiveRules | null = null;
  let deploying: Promise<ActiveRules> | null = null;
  let seed: RulesSeed | null = null;
  // The rules compiled for what was last known: a version is compiled once per isolate.
  let last: { known: RulesKnown; active: ActiveRules } | null = null;
  // The version last refused (what it was, and what served instead): logged once, not every refresh.
  let refusedKey: string | null = null;
  let refusedActive: ActiveRules | null = null;

  /** RULES_JSON (else the bundled file), compiled once, however many requests ask at once; also makes the seed. */
  function deployed(): Promise<ActiveRules> {
    return (deploying ??= compileDeployed());
  }

  async function compileDeployed(): Promise<ActiveRules> {
    const own = await bundledCompiled();
    if (own.active.refused) logProblems(log, "bundled", own.problems);
    let active = own.active;
    if (env.RULES_JSON) {
      const result = parseRulesText(env.RULES_JSON);
      const version = await versionOf(env.RULES_JSON);
      if (result.rules) {
        active = { rules: result.rules, source: "RULES_JSON", version, sequence: 0, uploadedAt: null, refused: null };
        seed = { site, id: env.RULES_SEED || version, version, text: env.RULES_JSON };
      } else {
        logProblems(log, "RULES_JSON", result.problems);
        active = { ...active, refused: { source: "RULES_JSON", problems: result.problems } };
      }
    }
    return (deployedActive = active);
  }

  /** The rules of one recorded version; a broken one leaves the last good rules serving. */
  async function fromRecord(record: RulesRecord, via: "coordinator" | "kv", previous: ActiveRules | null): Promise<ActiveRules> {
    const own = await deployed();
    const source: RulesSourceName = record.seed !== null ? "RULES_JSON" : via;
    if (record.text === null) return { ...own, sequence: record.sequence };
    const uploadedAt = record.seed !== null ? null : record.at;
    const same = previous && previous.version === record.version && previous.sequence === record.sequence && !previous.refused;
    if (same) return { ...previous, source, uploadedAt };
    const key = `${source}:${record.sequence}:${record.version}`;
    if (key === refusedKey && refusedActive) return refusedActive;
    const result = parseRulesText(record.text);
    if (result.rules) return { rules: result.rules, source, version: record.version, sequence: record.sequence, uploadedAt, refused: null };
    logProblems(log, source, result.problems);
    refusedKey = key;
    return (refusedActive = { ...(previous ?? own), refused: { source, problems: result.problems } });
  }

  /** What serves for `known`: its version compiled (once), the deployment's own rules, or the last good ones. */
  async function activeFor(known: RulesKnown): Promise<ActiveRules> {
    if (last?.known === known) return last.active;
    const own = await deployed();
    const previous = last?.active ?? null;
    let active: ActiveRules;
    if (known.broken !== undefined) {
      // The KV copy is not a rules copy: the rules known before keep serving, and the problem is shown.
      if (refusedKey === known.broken && refusedActive) active = refusedActive;
      else {
        const why = `the value at ${rulesCopyKey(site)} is not a rules copy (version 2)`;
        const problems: Problem[] = [{ severity: "error", path: "$", message: why, hint: "upload the rules again with PUT /.edge-cache/rules" }];
        logProblems(log, "kv", problems);
        refusedKey = known.broken;
        active = refusedActive = { ...(previous ?? own), refused: { source: "kv", problems } };
      }
    } else if (known.record === null) active = known.via === "deployed" ? own : { ...own, sequence: known.sequence };
    else active = await fromRecord(known.record, known.via === "kv" ? "kv" : "coordinator", previous);
    last = { known, active };
    return active;
  }

  // Rules given as an option never change: their version is worked out once.
  const fixedActive: Promise<ActiveRules> | null = fixed
    ? versionOf(JSON.stringify(fixed.source)).then((version): ActiveRules => ({ rules: fixed, source: "options", version, sequence: 0, uploadedAt: null, refused: null }))
    : null;

  async function current(background?: (p: Promise<unknown>) => void): Promise<ActiveRules> {
    if (fixedActive) return fixedActive;
    if (deployedActive === null) await deployed();
    const known = (await shared().get(background)).rules;
    // The hot path: what was compiled for the state known, without another async step.
    return last?.known === known ? last.active : activeFor(known);
  }

  /** Has the coordinator record a version; this isolate serves it at once. */
  async function record(version: string, text: string | null): Promise<RulesRecord> {
    if (!coordinator) throw new Error("no coordinator is bound (COORDINATOR)");
    let recorded: RulesRecord | null;
    try {
      recorded = await answerWithin(clock, COORDINATOR_WRITE_TIMEOUT_MS, coordinator().putRules({ site, version, text, at: clock.now() }));
    } catch (err) {
      log({ msg: "coordinator-unavailable", part: "rules-upload", error: message(err) });
      throw err;
    }
    await deployed();
    const known: RulesKnown = { sequence: recorded.sequence, record: recorded, via: "coordinator" };
    // A refresh may have brought a newer upload meanwhile: only a newer one replaces what is known.
    await shared().change((view) => {
      if (view.rules.via !== "coordinator" || recorded.sequence > view.rules.sequence) view.rules = known;
    });
    return recorded;
  }

  return {
    isolate,
    async rules(background) {
      return fixed ?? (await current(background)).rules;
    },
    active: () => current(),
    own: () => fixedActive ?? deployed(),
    async upload(text) {
      const result = parseRulesText(text);
      if (!result.rules) return { ok: false, problems: result.problems };
      const recorded = await record(await versionOf(text), text);
      return { ok: true, rules: result.rules, version: recorded.version, sequence: recorded.sequence, uploadedAt: recorded.at, problems: result.problems, active: await current() };
    },
    async remove() {
      await record("removed", null);
      // What an older version kept must not come back through the fallback.
      await env.CACHE_KV.delete(RULES_KV_KEY);
      return current();
    },
    async status() {
      try {
        return coordinator ? await within(clock, COORDINATOR_TIMEOUT_MS, coordinator().rulesStatus(), null) : null;
      } catch {
        return null;
      }
    },
    async seed() {
      await deployed();
      return seed;
    },
    report(known) {
      if (known && last?.known === known) return { sequence: last.active.sequence, version: last.active.version, source: last.active.source };
      if (!known) return { sequence: 0, version: null, source: "none" };
      const source = known.record?.seed ? "RULES_JSON" : known.via === "deployed" ? (deployedActive?.source ?? "none") : known.via;
      return { sequence: known.sequence, version: known.record?.version ?? null, source };
    },
  };
}

const versionOf = async (text: string) => (await sha256Hex(text)).slice(0, 16);
const logProblems = (log: Log, source: string, problems: readonly Problem[]) => log({ msg: "rules-invalid", source, problems });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
