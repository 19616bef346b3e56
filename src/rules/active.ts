/**
 * Which rules run, and their hot reload. In order of precedence:
 *   1. rules given to `createWorker` (tests);
 *   2. the `RULES_JSON` binding (local runs: the file given to `npm start -- --rules`),
 *      so a local run never picks up what an earlier run uploaded;
 *   3. a copy uploaded with `PUT /.edge-cache/rules`, kept in KV;
 *   4. the bundled config/routes.json.
 *
 * The KV copy is re-read at most every `RULES_REFRESH_MS` per isolate and compiled
 * only when it changed; KV takes about 60 s more to show a write in other locations.
 * Invariant 6: a KV copy that fails to read, parse or validate never replaces rules
 * that work; the last good copy (else the bundled file) keeps serving, and the
 * problem is logged once and shown by `GET /.edge-cache/rules`.
 */
import bundled from "../../config/routes.json";
import { systemClock, within, type Clock } from "../clock";
import { sha256Hex } from "../policy/digest";
import { parseRules, parseRulesText } from "./parse";
import type { CompiledRules, Problem } from "./types";

export const RULES_KV_KEY = "rules:v1";
/** How long an isolate trusts its copy of the KV rules before reading again. */
export const RULES_REFRESH_MS = 10_000;
const RULES_READ_TIMEOUT_MS = 1_500;

/** No routes: every request passes through uncached. The last resort when nothing valid exists. */
const PASS_THROUGH: CompiledRules = {
  version: 1,
  origin: null,
  routes: [],
  source: { version: 1, routes: [] },
};

export type RulesSourceName = "options" | "RULES_JSON" | "kv" | "bundled";

/** The rules serving now, where they came from, and why a newer copy is not serving (if so). */
export interface ActiveRules {
  rules: CompiledRules;
  source: RulesSourceName;
  /** A hash of the file's text (16 hex digits): tells two uploads apart. */
  version: string;
  /** When the KV copy was uploaded (ms since epoch); null for other sources. */
  uploadedAt: number | null;
  /** Problems of a copy that was refused (a broken KV copy, an invalid RULES_JSON). */
  refused: { source: RulesSourceName; problems: Problem[] } | null;
}

/** What `PUT /.edge-cache/rules` keeps in KV. */
interface StoredRules {
  v: 1;
  version: string;
  uploadedAt: number;
  text: string;
}

export type UploadResult =
  | { ok: true; rules: CompiledRules; version: string; uploadedAt: number; problems: Problem[]; active: ActiveRules }
  | { ok: false; problems: Problem[] };

export interface RulesSource {
  /** The rules for this request (the proxy's `deps.rules`). */
  rules(env: RulesEnv): Promise<CompiledRules>;
  active(env: RulesEnv): Promise<ActiveRules>;
  /** Validates and stores a rules file; an invalid one is refused with every problem. Rejects when KV refuses the write. */
  upload(env: RulesEnv, text: string): Promise<UploadResult>;
  /** Drops the KV copy: the bundled rules serve again. */
  remove(env: RulesEnv): Promise<ActiveRules>;
}

export interface RulesEnv {
  RULES_JSON?: string;
  CACHE_KV: KVNamespace;
}

let bundledActive: Promise<ActiveRules> | null = null;

/** The bundled config/routes.json, compiled once per isolate (pass-through if it were ever invalid). */
export function bundledRules(): Promise<ActiveRules> {
  bundledActive ??= (async () => {
    const result = parseRules(bundled);
    if (!result.rules) logProblems("bundled", result.problems);
    return {
      rules: result.rules ?? PASS_THROUGH,
      source: "bundled" as const,
      version: await versionOf(JSON.stringify(bundled)),
      uploadedAt: null,
      refused: result.rules ? null : { source: "bundled" as const, problems: result.problems },
    };
  })();
  return bundledActive;
}

/** One isolate's view of the rules; `fixed` rules (tests) win over everything. */
export function createRulesSource(options: { now: () => number; fixed?: CompiledRules; clock?: Clock }): RulesSource {
  const { now, fixed } = options;
  const clock = options.clock ?? systemClock;
  let fromVar: { text: string; active: ActiveRules } | null = null;
  // The KV copy: the raw value last read (to skip recompiling), what serves, and until when it is trusted.
  let kvCache: { raw: string | null; active: ActiveRules; until: number } | null = null;
  let lastGoodKv: ActiveRules | null = null;
  let reading: Promise<ActiveRules> | null = null;

  async function fromRulesJson(text: string): Promise<ActiveRules> {
    if (fromVar?.text !== text) {
      const result = parseRulesText(text);
      const version = await versionOf(text);
      if (!result.rules) logProblems("RULES_JSON", result.problems);
      fromVar = {
        text,
        active: result.rules
          ? { rules: result.rules, source: "RULES_JSON", version, uploadedAt: null, refused: null }
          : { ...(await bundledRules()), refused: { source: "RULES_JSON", problems: result.problems } },
      };
    }
    return fromVar.active;
  }

  async function readKv(kv: KVNamespace): Promise<ActiveRules> {
    let raw: string | null;
    try {
      const got = kv.get(RULES_KV_KEY, { type: "text" });
      const value = await within(clock, RULES_READ_TIMEOUT_MS, got, "timeout" as const);
      if (value === "timeout") throw new Error(`no answer in ${RULES_READ_TIMEOUT_MS} ms`);
      raw = value;
    } catch (err) {
      // Unreadable now: keep serving what we had, and try again after the refresh period.
      console.error(JSON.stringify({ msg: "rules-kv-read", error: err instanceof Error ? err.message : String(err) }));
      const active = kvCache?.active ?? (await bundledRules());
      kvCache = { raw: kvCache?.raw ?? null, active, until: now() + RULES_REFRESH_MS };
      return active;
    }
    if (kvCache && kvCache.raw === raw) {
      kvCache.until = now() + RULES_REFRESH_MS;
      return kvCache.active;
    }
    const active = await compileStored(raw);
    kvCache = { raw, active, until: now() + RULES_REFRESH_MS };
    return active;
  }

  async function compileStored(raw: string | null): Promise<ActiveRules> {
    if (raw === null) {
      lastGoodKv = null;
      return bundledRules();
    }
    const stored = parseStored(raw);
    const result = stored === null ? null : parseRulesText(stored.text);
    if (stored !== null && result?.rules) {
      lastGoodKv = { rules: result.rules, source: "kv", version: stored.version, uploadedAt: stored.uploadedAt, refused: null };
      return lastGoodKv;
    }
    const problems: Problem[] = result?.problems ?? [
      { severity: "error", path: "$", message: `the value at ${RULES_KV_KEY} is not a stored rules file (version 1)`, hint: "upload the rules again with PUT /.edge-cache/rules" },
    ];
    logProblems("kv", problems);
    return { ...(lastGoodKv ?? (await bundledRules())), refused: { source: "kv", problems } };
  }

  async function active(env: RulesEnv): Promise<ActiveRules> {
    if (fixed) return { rules: fixed, source: "options", version: await versionOf(JSON.stringify(fixed.source)), uploadedAt: null, refused: null };
    if (env.RULES_JSON) return fromRulesJson(env.RULES_JSON);
    if (kvCache && now() < kvCache.until) return kvCache.active;
    if (reading) {
      // Another request's read. Awaiting its I/O without any of our own would get this
      // request cancelled as hung by workerd: serve what we have, or wait with our own bound.
      if (kvCache) return kvCache.active;
      return within(clock, RULES_READ_TIMEOUT_MS + 100, reading, await bundledRules());
    }
    reading = readKv(env.CACHE_KV).finally(() => {
      reading = null;
    });
    return reading;
  }

  return {
    active,
    async rules(env) {
      if (fixed) return fixed;
      return (await active(env)).rules;
    },
    async upload(env, text) {
      const result = parseRulesText(text);
      if (!result.rules) return { ok: false, problems: result.problems };
      const stored: StoredRules = { v: 1, version: await versionOf(text), uploadedAt: now(), text };
      const raw = JSON.stringify(stored);
      await env.CACHE_KV.put(RULES_KV_KEY, raw);
      // This isolate serves the upload at once; the others within their refresh period.
      lastGoodKv = { rules: result.rules, source: "kv", version: stored.version, uploadedAt: stored.uploadedAt, refused: null };
      kvCache = { raw, active: lastGoodKv, until: now() + RULES_REFRESH_MS };
      return { ok: true, rules: result.rules, version: stored.version, uploadedAt: stored.uploadedAt, problems: result.problems, active: await active(env) };
    },
    async remove(env) {
      await env.CACHE_KV.delete(RULES_KV_KEY);
      lastGoodKv = null;
      kvCache = { raw: null, active: await bundledRules(), until: now() + RULES_REFRESH_MS };
      return active(env);
    },
  };
}

function parseStored(raw: string): StoredRules | null {
  try {
    const v = JSON.parse(raw) as Partial<StoredRules> | null;
    if (v && v.v === 1 && typeof v.text === "string" && typeof v.version === "string" && typeof v.uploadedAt === "number") {
      return v as StoredRules;
    }
  } catch {
    // Not JSON: reported by the caller like any other broken copy.
  }
  return null;
}

async function versionOf(text: string): Promise<string> {
  return (await sha256Hex(text)).slice(0, 16);
}

function logProblems(source: string, problems: readonly Problem[]): void {
  console.error(JSON.stringify({ msg: "rules-invalid", source, problems }));
}
