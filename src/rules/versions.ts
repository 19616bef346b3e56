/**
 * Uploaded rules, kept by the coordinator in SQLite: one row per version, numbered in
 * the order the coordinator recorded them (`sequence`). The Durable Object runs one
 * method at a time, so two uploads sent at once to two locations get two sequence
 * numbers and the later one serves everywhere: none is lost, none goes back in time.
 *
 * A version is a rules file (validated by the isolate that took it) or a removal
 * (`text: null`: the deployment's own rules serve again). A seed is the file a
 * deployment was started with (`RULES_JSON`, with `RULES_SEED` for one `npm start`):
 * it is recorded as the newest version the first time its id is seen and never again,
 * so a new start begins from its own file and later uploads win over it, and during a
 * gradual deployment (two Worker versions serving at once) neither version's new
 * isolates take the site back to their file (ARCHITECTURE.md, "Rules uploads").
 *
 * The isolates report which version they serve whenever they ask; the coordinator
 * keeps the last report of each in memory (it is a view, not state: lost on restart,
 * rebuilt within one refresh period).
 */
import { remember } from "../bounded-map";
import { metaNumber, metaText, setMeta } from "../coordinator/meta";

export const RULES_TABLES: readonly string[] = [
  "CREATE TABLE IF NOT EXISTS rules_versions (seq INTEGER PRIMARY KEY, version TEXT NOT NULL, text TEXT, at REAL NOT NULL, seed TEXT)",
  // Every seed id recorded (the newest KEEP_SEEDS), with the sequence it was recorded as.
  "CREATE TABLE IF NOT EXISTS rules_seeds (id TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
  // Seeds recorded before this table existed: the kept versions', and the last one's.
  "INSERT OR IGNORE INTO rules_seeds (id, seq) SELECT seed, MAX(seq) FROM rules_versions WHERE seed IS NOT NULL GROUP BY seed",
  "INSERT OR IGNORE INTO rules_seeds (id, seq) SELECT value, 0 FROM meta WHERE name = 'rules_seed' AND value != ''",
];

/** Versions kept (the newest serves; the others are history for whoever reads the table). */
const KEEP_VERSIONS = 20;
/** Seed ids remembered: one per deployment that changed its file, or per `npm start`. */
const KEEP_SEEDS = 1_000;
/** Isolates not heard from for this long are left out of the list. */
export const ISOLATE_SEEN_MS = 5 * 60_000;
const MAX_ISOLATES = 1_000;

export interface RulesRecord {
  sequence: number;
  /** The first 16 hex digits of the text's SHA-256 (or of "" for a removal). */
  version: string;
  /** The rules file; null = removed: the deployment's own rules serve. */
  text: string | null;
  /** When the coordinator recorded it, ms since epoch. */
  at: number;
  /** The seed id, when this version is a deployment's start file rather than an upload. */
  seed: string | null;
}

export interface RulesUpload {
  /** The site (the coordinator's name): names its KV copy. */
  site: string;
  version: string;
  text: string | null;
  /** The caller's clock: the record's time is never earlier, nor earlier than the last one's. */
  at: number;
}

export interface RulesSeed {
  site: string;
  id: string;
  version: string;
  text: string;
}

/** What an isolate says it serves, each time it asks. */
export interface IsolateReport {
  /** The site (names the KV copy when this call records the first version). */
  site: string;
  isolate: string;
  /** Where it runs (`request.cf.colo`, or the simulated location): it asks for every isolate there. */
  location?: string;
  sequence: number;
  version: string | null;
  source: string;
}

export interface RulesDelta {
  /** The coordinator's newest sequence number (0: nothing recorded). */
  sequence: number;
  /** The newest version, when it is newer than what the caller has. */
  latest: RulesRecord | null;
  /** The latest seed id recorded: an isolate started from it need not offer it again. */
  seedId: string;
}

/** `GET /.edge-cache/rules`: the newest version (without its text) and what each isolate serves. */
export interface RulesStatus {
  sequence: number;
  version: string | null;
  at: number | null;
  seed: string | null;
  isolates: (IsolateReport & { seenAt: number })[];
}

/** The KV copy (`rules:v2:<site>`): the newest version, and the seed the coordinator runs from. */
export interface RulesCopy extends RulesRecord {
  v: 2;
  /** The latest seed id recorded (an isolate started from another seed ignores this copy). */
  seedId: string;
}

export function recordRules(sql: SqlStorage, input: RulesUpload, now: number, seed: string | null = null): RulesRecord {
  const sequence = metaNumber(sql, "rules_seq") + 1;
  const at = Math.max(now, input.at, metaNumber(sql, "rules_last_at"));
  sql.exec("INSERT INTO rules_versions (seq, version, text, at, seed) VALUES (?, ?, ?, ?, ?)", sequence, input.version, input.text, at, seed);
  sql.exec("DELETE FROM rules_versions WHERE seq <= ?", sequence - KEEP_VERSIONS);
  setMeta(sql, "rules_seq", sequence);
  setMeta(sql, "rules_last_at", at);
  setMeta(sql, "site", input.site);
  return { sequence, version: input.version, text: input.text, at, seed };
}

/**
 * Records the seed as the newest version unless this seed id was ever recorded; then as
 * `rulesSince`. Not only the latest seed: an older Worker version's isolate that starts
 * during a gradual deployment must not make its file newest again over the newer one's
 * or over an upload made since.
 */
export function seedRules(sql: SqlStorage, seed: RulesSeed, since: number, now: number): RulesDelta {
  if (sql.exec("SELECT 1 FROM rules_seeds WHERE id = ?", seed.id).toArray().length === 0) {
    const { sequence } = recordRules(sql, { site: seed.site, version: seed.version, text: seed.text, at: now }, now, seed.id);
    sql.exec("INSERT INTO rules_seeds (id, seq) VALUES (?, ?)", seed.id, sequence);
    sql.exec("DELETE FROM rules_seeds WHERE seq < (SELECT seq FROM rules_seeds ORDER BY seq DESC LIMIT 1 OFFSET ?)", KEEP_SEEDS - 1);
    setMeta(sql, "rules_seed", seed.id);
  }
  return rulesSince(sql, since);
}

export function latestRules(sql: SqlStorage): RulesRecord | null {
  const row = sql
    .exec<{ seq: number; version: string; text: string | null; at: number; seed: string | null }>("SELECT seq, version, text, at, seed FROM rules_versions ORDER BY seq DESC LIMIT 1")
    .toArray()[0];
  return row ? { sequence: row.seq, version: row.version, text: row.text, at: row.at, seed: row.seed } : null;
}

export function rulesSince(sql: SqlStorage, since: number): RulesDelta {
  const sequence = metaNumber(sql, "rules_seq");
  // A caller ahead of us saw a coordinator that has since lost its storage: send what we have.
  return { sequence, latest: sequence !== since && sequence > 0 ? latestRules(sql) : null, seedId: metaText(sql, "rules_seed") };
}

export function rulesCopy(sql: SqlStorage): RulesCopy | null {
  const latest = latestRules(sql);
  return latest && { v: 2, ...latest, seedId: metaText(sql, "rules_seed") };
}

export function noteIsolate(isolates: Map<string, IsolateReport & { seenAt: number }>, report: IsolateReport, now: number): void {
  remember(isolates, report.isolate, { ...report, seenAt: now }, MAX_ISOLATES);
}

export function rulesStatus(sql: SqlStorage, isolates: Map<string, IsolateReport & { seenAt: number }>, now: number): RulesStatus {
  const latest = latestRules(sql);
  for (const [id, r] of isolates) if (now - r.seenAt > ISOLATE_SEEN_MS) isolates.delete(id);
  return {
    sequence: metaNumber(sql, "rules_seq"),
    version: latest?.version ?? null,
    at: latest?.at ?? null,
    seed: latest?.seed ?? null,
    isolates: [...isolates.values()].reverse(),
  };
}

/** The copy of the newest version the coordinator of `site` writes to KV. */
export const rulesCopyKey = (site: string) => `rules:v2:${site}`;

/** Where uploads lived before the coordinator: `{ v: 1, text, version, uploadedAt }`. */
export const LEGACY_RULES_KEY = "rules:v1";

/** A `rules:v1` value, or null when it is not one. */
export function parseLegacyRules(raw: string | null): { version: string; text: string; at: number } | null {
  try {
    const v = raw === null ? null : (JSON.parse(raw) as { v?: unknown; text?: unknown; version?: unknown; uploadedAt?: unknown } | null);
    if (v && v.v === 1 && typeof v.text === "string" && typeof v.version === "string" && typeof v.uploadedAt === "number") {
      return { version: v.version, text: v.text, at: v.uploadedAt };
    }
  } catch {
    // Not JSON: not a stored file.
  }
  return null;
}

/** A `rules:v2:<site>` value, or null when it is not one. */
export function parseRulesCopy(raw: string | null): RulesCopy | null {
  try {
    const v = raw === null ? null : (JSON.parse(raw) as Partial<RulesCopy> | null);
    if (v && v.v === 2 && typeof v.sequence === "number" && typeof v.version === "string" && (typeof v.text === "string" || v.text === null)) {
      return { v: 2, sequence: v.sequence, version: v.version, text: v.text, at: Number(v.at) || 0, seed: v.seed ?? null, seedId: String(v.seedId ?? "") };
    }
  } catch {
    // Not JSON: reported by the caller like any other broken copy.
  }
  return null;
}
