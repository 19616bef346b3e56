/**
 * Which rules run, and how an upload reaches every isolate. In order of precedence:
 *   1. rules given to `createWorker` (tests);
 *   2. the newest version the site's coordinator recorded (src/rules/versions.ts):
 *      an upload (`PUT /.edge-cache/rules`), or the file the deployment was started
 *      with (`RULES_JSON`, which `npm start -- --rules` sets), recorded once per
 *      start as a seed, so a local upload takes effect exactly as in production;
 *   3. the deployment's own rules: `RULES_JSON`, else the bundled config/routes.json.
 *
 * Propagation (the purge bounds, src/purge/state.ts): the isolate that took an upload
 * serves it at once; every other isolate that serves requests asks the coordinator
 * once its copy is 2 s old (in the background, a cheap "anything after sequence N?")
 * and never serves a copy older than 5 s without first waiting up to 0.3 s for a
 * fresh one (src/coordinator/snapshot.ts). When the coordinator cannot be reached,
 * the copy it writes to KV (`rules:v2:<site>`) serves instead, with KV's bounds
 * (about 60 s to other locations), logged once until the coordinator answers again.
 *
 * Invariant 6: a version that fails to parse or validate never replaces rules that
 * work; the last good rules (else the deployment's own) keep serving, and the problem
 * is logged and shown by `GET /.edge-cache/rules`.
 */
import bundled from "../../config/routes.json";
import { answerWithin, systemClock, within, type Clock } from "../clock";
import type { CoordinatorApi } from "../coordinator/client";
import { createSnapshot } from "../coordinator/snapshot";
import { sha256Hex } from "../policy/digest";
import { COORDINATOR_TIMEOUT_MS, COORDINATOR_WRITE_TIMEOUT_MS, PURGE_BOUND_MS, PURGE_READ_TIMEOUT_MS, PURGE_REFRESH_MS, PURGE_WAIT_MS } from "../purge/state";
import { parseRules, parseRulesText } from "./parse";
import type { CompiledRules, Problem } from "./types";
import { LEGACY_RULES_KEY, parseLegacyRules, parseRulesCopy, type RulesRecord, type RulesSeed, type RulesStatus } from "./versions";

/** Where uploads lived before the coordinator (still read when it has no copy; deleted by DELETE). */
export const RULES_KV_KEY = LEGACY_RULES_KEY;
/** The copy of the newest version the coordinator of `site` writes to KV. */
export const rulesCopyKey = (site: string) => `rules:v2:${site}`;
/** How old an isolate's copy may get before it asks again (in the background). */
export const RULES_REFRESH_MS = PURGE_REFRESH_MS;
/** The propagation bound: no isolate serves a copy older than this without asking first. */
export const RULES_BOUND_MS = PURGE_BOUND_MS;

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

interface View {
  active: ActiveRules;
  /** Where the last load got it: the sequence asked from is only the coordinator's own. */
  via: "coordinator" | "kv" | "deployed";
}

/** One isolate's view of the rules; `fixed` rules (tests) win over everything. */
export function createRulesSource(options: RulesSourceOptions): RulesSource {
  const { env, site, coordinator, log, fixed } = options;
  const clock = options.clock ?? systemClock;
  const isolate = crypto.randomUUID().slice(0, 8);
  let deployedActive: ActiveRules | null = null;
  let deploying: Promise<ActiveRules> | null = null;
  let seed: RulesSeed | null = null;
  let seeded = false;
  let down = false;
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
  async function fromRecord(record: RulesRecord, via: "coordinator" | "kv", previous: View | null): Promise<ActiveRules> {
    const own = await deployed();
    const source: RulesSourceName = record.seed !== null ? "RULES_JSON" : via;
    if (record.text === null) return { ...own, sequence: record.sequence };
    const uploadedAt = record.seed !== null ? null : record.at;
    const same = previous && previous.active.version === record.version && previous.active.sequence === record.sequence && !previous.active.refused;
    if (same) return { ...previous.active, source, uploadedAt };
    const key = `${source}:${record.sequence}:${record.version}`;
    if (key === refusedKey && refusedActive) return refusedActive;
    const result = parseRulesText(record.text);
    if (result.rules) return { rules: result.rules, source, version: record.version, sequence: record.sequence, uploadedAt, refused: null };
    logProblems(log, source, result.problems);
    refusedKey = key;
    return (refusedActive = { ...(previous?.active ?? own), refused: { source, problems: result.problems } });
  }

  async function fromCoordinator(api: CoordinatorApi, previous: View | null): Promise<View> {
    await deployed();
    const since = previous?.via === "coordinator" ? previous.active.sequence : 0;
    const report = { site, isolate, sequence: previous?.active.sequence ?? 0, version: previous?.active.version ?? null, source: previous?.active.source ?? "none" };
    const seeding = seed !== null && !seeded;
    const call = seeding ? api.seedRules(seed!, since, report) : api.rulesSince(since, report);
    const delta = await answerWithin(clock, COORDINATOR_TIMEOUT_MS, call);
    // A coordinator that knows less than we saw has lost its storage: seed it again next time.
    seeded = seeding || (seeded && delta.sequence >= since);
    if (delta.latest) return { active: await fromRecord(delta.latest, "coordinator", previous), via: "coordinator" };
    if (delta.sequence === 0 || !previous) return { active: await deployed(), via: "coordinator" };
    return previous;
  }

  async function read(key: string): Promise<string | null> {
    const got = await within(clock, PURGE_READ_TIMEOUT_MS, env.CACHE_KV.get(key, { type: "text" }), "timeout" as const);
    if (got === "timeout") throw new Error(`no answer from KV in ${PURGE_READ_TIMEOUT_MS} ms`);
    return got;
  }

  /** The coordinator's KV copy (else what an older version kept in KV); one started from another seed ignores it. */
  async function fromKv(previous: View | null): Promise<View> {
    const own = await deployed();
    const raw = await read(rulesCopyKey(site));
    const copy = parseRulesCopy(raw);
    if (raw !== null && copy === null) {
      if (refusedKey === raw && refusedActive) return { active: refusedActive, via: "kv" };
      const why = `the value at ${rulesCopyKey(site)} is not a rules copy (version 2)`;
      const problems: Problem[] = [{ severity: "error", path: "$", message: why, hint: "upload the rules again with PUT /.edge-cache/rules" }];
      logProblems(log, "kv", problems);
      refusedKey = raw;
      return { active: (refusedActive = { ...(previous?.active ?? own), refused: { source: "kv", problems } }), via: "kv" };
    }
    if (copy && (seed === null || copy.seedId === seed.id)) return { active: await fromRecord(copy, "kv", previous), via: "kv" };
    if (copy || seed) return { active: own, via: "deployed" };
    const legacy = parseLegacyRules(await read(RULES_KV_KEY));
    if (legacy) return { active: await fromRecord({ sequence: 0, seed: null, ...legacy }, "kv", previous), via: "kv" };
    return { active: own, via: "deployed" };
  }

  const snapshot = createSnapshot<View>({
    clock,
    async load(previous) {
      if (coordinator) {
        try {
          const view = await fromCoordinator(coordinator(), previous);
          down = false;
          return view;
        } catch (err) {
          if (!down) log({ msg: "coordinator-unavailable", part: "rules", fallback: "kv", error: message(err) });
          down = true;
        }
      }
      try {
        return await fromKv(previous);
      } catch (err) {
        log({ msg: "rules-kv-read", fallback: "last-known", error: message(err) });
        return previous ?? { active: await deployed(), via: "deployed" };
      }
    },
    // Only after `deployed()` has run (every get awaits it first).
    initial: () => ({ active: deployedActive!, via: "deployed" }),
    refreshMs: RULES_REFRESH_MS,
    boundMs: RULES_BOUND_MS,
    waitMs: PURGE_WAIT_MS,
    firstWaitMs: COORDINATOR_TIMEOUT_MS + 2 * PURGE_READ_TIMEOUT_MS + 100,
  });

  // Rules given as an option never change: their version is worked out once.
  const fixedActive: Promise<ActiveRules> | null = fixed
    ? versionOf(JSON.stringify(fixed.source)).then((version): ActiveRules => ({ rules: fixed, source: "options", version, sequence: 0, uploadedAt: null, refused: null }))
    : null;

  async function current(background?: (p: Promise<unknown>) => void): Promise<ActiveRules> {
    if (fixedActive) return fixedActive;
    if (deployedActive === null) await deployed();
    return (await snapshot.get(background)).active;
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
    const active = await fromRecord(recorded, "coordinator", snapshot.peek());
    // Looked at after the compile: a refresh may have brought a newer upload meanwhile.
    const view = snapshot.peek();
    if (!view || view.via !== "coordinator" || recorded.sequence > view.active.sequence) snapshot.set({ active, via: "coordinator" });
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
  };
}

const versionOf = async (text: string) => (await sha256Hex(text)).slice(0, 16);
const logProblems = (log: Log, source: string, problems: readonly Problem[]) => log({ msg: "rules-invalid", source, problems });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
