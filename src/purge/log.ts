/**
 * The purge log, kept by the coordinator in SQLite: one row per purged target (the
 * hash isolates look up, the latest hard and soft purge times, and the sequence
 * number of the purge that last touched it), plus the purges of everything in
 * `meta`. Purges are serialized by the Durable Object, so each gets the next
 * sequence number and a time no earlier than the last one's: a delta "since
 * sequence N" is every row touched after N, complete and in order.
 */
import { metaNumber, setMeta } from "../coordinator/meta";
import { targetHash } from "./index-table";
import type { PurgeKind, PurgeTarget } from "./records";

export const PURGE_TABLES: readonly string[] = [
  "CREATE TABLE IF NOT EXISTS purge_rows (hash INTEGER PRIMARY KEY, hard REAL NOT NULL, soft REAL NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL)",
  "CREATE INDEX IF NOT EXISTS purge_rows_seq ON purge_rows (seq)",
];

/** Most rows in one delta (24 bytes each on the wire: 1.2 MB); a bigger gap takes several calls. */
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
  /** More rows wait past `sequence`: ask again. */
  more: boolean;
  /** Entries stored at or before this time may be covered by a pruned row (see PurgeTable.floor). */
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

/** Every row touched after `since`, at most `DELTA_ROWS`, cut at a purge's boundary. */
export function purgesSince(sql: SqlStorage, since: number, limit = DELTA_ROWS): PurgeDelta {
  const head = metaNumber(sql, "purge_seq");
  const everything = { hard: metaNumber(sql, "everything_hard"), soft: metaNumber(sql, "everything_soft") };
  // A coordinator that knows less than the caller (its storage was reset): send everything.
  const from = since > head ? 0 : since;
  const found = sql
    .exec<{ hash: number; hard: number; soft: number; seq: number }>(
      "SELECT hash, hard, soft, seq FROM purge_rows WHERE seq > ? ORDER BY seq LIMIT ?",
      from,
      limit + 1,
    )
    .toArray();
  let rows = found;
  let sequence = head;
  const more = found.length > limit;
  if (more) {
    // One purge's rows never split across deltas (a purge has at most 100 targets).
    const last = found[limit - 1]!.seq;
    rows = found.filter((r) => r.seq < last);
    sequence = last - 1;
  }
  const out = new Float64Array(rows.length * 3);
  rows.forEach((r, i) => out.set([r.hash, r.hard, r.soft], i * 3));
  return { sequence, everything, rows: out, more, floor: metaNumber(sql, "purge_floor"), horizonMs: metaNumber(sql, "purge_horizon_ms") };
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
  const rows = sql
    .exec<{ hash: number; hard: number; soft: number }>("SELECT hash, hard, soft FROM purge_rows ORDER BY max(hard, soft) DESC LIMIT ?", limit + 1)
    .toArray();
  const kept = rows.slice(0, limit);
  const out = new Float64Array(kept.length * 3);
  kept.forEach((r, i) => out.set([r.hash, r.hard, r.soft], i * 3));
  // Entries stored before the newest row left out may be covered by it: readers revalidate them.
  const cut = Math.max(metaNumber(sql, "purge_floor"), rows.length > limit ? Math.max(rows[limit]!.hard, rows[limit]!.soft) : 0);
  return {
    value: out.buffer,
    metadata: {
      v: 2,
      sequence: metaNumber(sql, "purge_seq"),
      everything: [metaNumber(sql, "everything_hard"), metaNumber(sql, "everything_soft")],
      floor: cut,
    },
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
