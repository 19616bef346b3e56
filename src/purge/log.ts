/**
 * The purge log, kept by the coordinator in SQLite: one row per purged target (the
 * hash isolates look up, the latest hard and soft purge times, and the sequence
 * number of the purge that last touched it), plus the purges of everything in
 * `meta`. Purges are serialized by the Durable Object, so each gets the next
 * sequence number and a time no earlier than the last one's: a delta "since
 * sequence N" is every row touched after N, complete and in order.
 */
import { metaNumber, setMeta } from "../coordinator/meta";
import { MAX_ROWS, targetHash } from "./index-table";
import type { PurgeKind, PurgeTarget } from "./records";

export const PURGE_TABLES: readonly string[] = [
  "CREATE TABLE IF NOT EXISTS purge_rows (hash INTEGER PRIMARY KEY, hard REAL NOT NULL, soft REAL NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL)",
  "CREATE INDEX IF NOT EXISTS purge_rows_seq ON purge_rows (seq)",
  // The newest rows first, for a cold load and the KV copy, and the prune: an index, never a scan.
  "CREATE INDEX IF NOT EXISTS purge_rows_time ON purge_rows (max(hard, soft))",
];

/** The KV copy the coordinator of `site` writes (see `purgeCopy`). */
export const purgeCopyKey = (site: string) => `purge:v2:${site}`;

/**
 * Most rows in one delta (24 bytes each on the wire: 1.2 MB). A caller further behind
 * (or new) gets the newest state instead (`newestRows`): it is complete either way.
 */
export const DELTA_ROWS = 50_000;

export interface PurgeInput {
  /** The site (the coordinator's name): names its KV copy. */
  site: string;
  target: PurgeTarget;
  soft: boolean;
  /** The caller's clock; the record's time is never earlier (see `recordPurge`). */
  at: number;
  /** How long records matter (the longest retention of any route), ms. */
  horizonMs: number;
}

export interface Recorded {
  sequence: number;
  /** The record's time, ms since epoch. */
  at: number;
}

export interface PurgeDelta {
  /** The delta is complete up to this sequence number. */
  sequence: number;
  everything: { hard: number; soft: number };
  /** [hash, hard, soft] repeated. */
  rows: Float64Array;
  /** The newest rows (a cold load), not the rows since the caller's sequence. */
  cold: boolean;
  /** Entries stored at or before this time may be covered by a row left out (see PurgeTable.floor). */
  floor: number;
  /** How long records matter, ms (isolates prune their copy with it). */
  horizonMs: number;
}

/**
 * Records one purge. Its time is the latest of the coordinator's clock, the caller's
 * and the last purge's: an entry any isolate stored before asking is then covered
 * even if that isolate's clock runs ahead, and times follow the sequence.
 */
export function recordPurge(sql: SqlStorage, input: PurgeInput, now: number): Recorded {
  const sequence = metaNumber(sql, "purge_seq") + 1;
  const at = Math.max(now, input.at, metaNumber(sql, "purge_last_at"));
  setMeta(sql, "purge_seq", sequence);
  setMeta(sql, "purge_last_at", at);
  setMeta(sql, "purge_horizon_ms", input.horizonMs);
  setMeta(sql, "site", input.site);
  const hard = input.soft ? 0 : at;
  const soft = input.soft ? at : 0;
  if (input.target.kind === "everything") {
    setMeta(sql, "everything_hard", Math.max(hard, metaNumber(sql, "everything_hard")));
    setMeta(sql, "everything_soft", Math.max(soft, metaNumber(sql, "everything_soft")));
    return { sequence, at };
  }
  const kind: PurgeKind = input.target.kind;
  for (const value of input.target.values) {
    sql.exec(
      `INSERT INTO purge_rows (hash, hard, soft, seq, kind, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (hash) DO UPDATE SET hard = max(hard, excluded.hard), soft = max(soft, excluded.soft),
         seq = excluded.seq, kind = excluded.kind, value = excluded.value`,
      targetHash(kind, value),
      hard,
      soft,
      sequence,
      kind,
      value,
    );
  }
  return { sequence, at };
}

/**
 * What a caller at `since` lacks: every row touched after it (at most `DELTA_ROWS`),
 * else, for a new caller or one further behind, the newest state: the newest
 * `MAX_ROWS` rows by time and the time below which an entry may be covered by a row
 * left out (it is revalidated, the rule an isolate applies when it drops rows). Both
 * are complete up to the head: the oldest rows never stand in for the newest, and a
 * cold load costs at most `MAX_ROWS` rows (6 MB), read from an index, whatever the
 * log holds.
 */
export function purgesSince(sql: SqlStorage, since: number): PurgeDelta {
  const head = metaNumber(sql, "purge_seq");
  const base = { sequence: head, everything: { hard: metaNumber(sql, "everything_hard"), soft: metaNumber(sql, "everything_soft") }, horizonMs: metaNumber(sql, "purge_horizon_ms") };
  // A coordinator that knows less than the caller (its storage was reset) sends its newest state too.
  const behind = since > 0 && since <= head ? sql.exec<{ n: number }>("SELECT count(*) AS n FROM (SELECT 1 FROM purge_rows WHERE seq > ? LIMIT ?)", since, DELTA_ROWS + 1).one().n : Infinity;
  if (behind > DELTA_ROWS) {
    const newest = newestRows(sql, MAX_ROWS);
    return { ...base, rows: newest.rows, cold: true, floor: newest.floor };
  }
  const rows = triples(sql.exec("SELECT hash, hard, soft FROM purge_rows WHERE seq > ?", since).raw(), behind).rows;
  return { ...base, rows, cold: false, floor: metaNumber(sql, "purge_floor") };
}

/** The newest `limit` rows by time, and the floor that stands for the rest (and for pruned rows). */
export function newestRows(sql: SqlStorage, limit: number): { rows: Float64Array; floor: number } {
  const { rows, rest } = triples(sql.exec("SELECT hash, hard, soft FROM purge_rows ORDER BY max(hard, soft) DESC LIMIT ?", limit + 1).raw(), limit);
  // Entries stored before the newest row left out may be covered by it: readers revalidate them.
  const floor = Math.max(metaNumber(sql, "purge_floor"), rest ? Math.max(Number(rest[1]), Number(rest[2])) : 0);
  return { rows, floor };
}

/** At most `limit` rows as [hash, hard, soft] triples (read raw: no object per row), and the first one past it. */
function triples(cursor: Iterable<SqlStorageValue[]>, limit: number): { rows: Float64Array; rest: SqlStorageValue[] | null } {
  let out = new Float64Array(Math.min(limit, 4096) * 3);
  let n = 0;
  for (const r of cursor) {
    if (n === limit) return { rows: out.slice(0, n * 3), rest: r };
    if (n * 3 === out.length) {
      const grown = new Float64Array(Math.min(limit, n * 2) * 3);
      grown.set(out);
      out = grown;
    }
    out[n * 3] = Number(r[0]);
    out[n * 3 + 1] = Number(r[1]);
    out[n * 3 + 2] = Number(r[2]);
    n++;
  }
  return { rows: out.slice(0, n * 3), rest: null };
}

/** Drops rows no entry can still be covered by (older than the horizon); returns how many. */
export function prunePurges(sql: SqlStorage, now: number): number {
  const horizon = metaNumber(sql, "purge_horizon_ms");
  if (horizon <= 0) return 0;
  const dropped = sql.exec("DELETE FROM purge_rows WHERE max(hard, soft) < ?", now - horizon).rowsWritten;
  if (dropped > 0) setMeta(sql, "purge_floor", Math.max(metaNumber(sql, "purge_floor"), now - horizon));
  return dropped;
}

/**
 * The KV copy: the newest `limit` rows (what an isolate could hold anyway) as raw
 * float64 triples, and what else a reader needs in the metadata (KV's 1 KiB).
 */
export function purgeCopy(sql: SqlStorage, limit: number): { value: ArrayBuffer; metadata: PurgeCopyMeta } {
  const { rows, floor } = newestRows(sql, limit);
  return {
    value: rows.buffer as ArrayBuffer,
    metadata: { v: 2, sequence: metaNumber(sql, "purge_seq"), everything: [metaNumber(sql, "everything_hard"), metaNumber(sql, "everything_soft")], floor },
  };
}

export interface PurgeCopyMeta {
  v: 2;
  sequence: number;
  everything: [number, number];
  floor: number;
}

export interface RecentPurge {
  kind: "everything" | PurgeKind;
  value: string | null;
  at: string;
  soft: boolean;
}

/** The newest purges, newest first: each target's latest hard and soft purge, and the purges of everything. */
export function recentPurges(sql: SqlStorage, limit: number): RecentPurge[] {
  const out: { at: number; p: RecentPurge }[] = [];
  const add = (kind: RecentPurge["kind"], value: string | null, hard: number, soft: number) => {
    if (hard > 0) out.push({ at: hard, p: { kind, value, at: new Date(hard).toISOString(), soft: false } });
    if (soft > hard) out.push({ at: soft, p: { kind, value, at: new Date(soft).toISOString(), soft: true } });
  };
  add("everything", null, metaNumber(sql, "everything_hard"), metaNumber(sql, "everything_soft"));
  const rows = sql
    .exec<{ kind: PurgeKind; value: string; hard: number; soft: number }>("SELECT kind, value, hard, soft FROM purge_rows ORDER BY seq DESC LIMIT ?", limit)
    .toArray();
  for (const r of rows) add(r.kind, r.value, r.hard, r.soft);
  return out.sort((a, b) => b.at - a.at).slice(0, limit).map((x) => x.p);
}
