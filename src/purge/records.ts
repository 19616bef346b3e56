/**
 * Purges as time-stamped records, not deletions. A record says "everything of this
 * tag (route, URL, prefix) stored at or before `at` is purged"; every lookup checks
 * the entry it found against the records. That is what makes a purge reach copies
 * we cannot delete (the Cache API of other data centres, KV replicas) and what wins
 * the race with a store that was already under way: the entry carries the time its
 * origin request was sent (`requestedAt`), so an answer the origin began before the
 * purge (its headers, or its body, arriving after it) is still older than it.
 * The verdict itself is the `PurgeTable`'s (src/purge/index-table.ts). Pure: merging
 * and pruning are data in, data out.
 */

export const PURGE_STATE_VERSION = 1;

/** One purge of one target. `at` is ms since epoch; soft = mark stale, hard = gone. */
export interface PurgeRecord {
  at: number;
  soft: boolean;
}

/**
 * The records of one target, newest hard first then a newer soft one: at most two,
 * because a later hard purge covers every earlier one and a later soft purge must
 * not weaken an earlier hard one.
 */
export type PurgeRecords = readonly PurgeRecord[];

/** Everything purged, as stored in KV (one JSON value). */
export interface PurgeState {
  v: typeof PURGE_STATE_VERSION;
  everything: PurgeRecords;
  /** By tag, lower-cased (tags compare case-insensitively, as Cloudflare's do). */
  tags: Readonly<Record<string, PurgeRecords>>;
  /** By route name. */
  routes: Readonly<Record<string, PurgeRecords>>;
  /** By normalized cache URL (`buildCacheKey(...).url.href`): every variant of it. */
  urls: Readonly<Record<string, PurgeRecords>>;
  /** By `host/path?query` prefix, without the scheme (Cloudflare's prefix form). */
  prefixes: Readonly<Record<string, PurgeRecords>>;
}

export type PurgeKind = "tags" | "routes" | "urls" | "prefixes";

/** A purge to record: one kind of target (already normalized) or everything. */
export type PurgeTarget =
  | { kind: PurgeKind; values: readonly string[] }
  | { kind: "everything" };

/** Most records kept per kind; past it the oldest fold into a purge of everything (see `boundState`). */
export const MAX_RECORDS: Readonly<Record<PurgeKind, number>> = { urls: 1000, prefixes: 500, tags: 1000, routes: 200 };

/**
 * How long a record matters. We take it that no entry is kept longer than this (a
 * year's TTL plus its stale windows), so an older record can match nothing that still
 * exists; an entry kept longer than 400 days could outlive a purge of it (stated in
 * the docs).
 */
export const RECORD_HORIZON_MS = 400 * 24 * 3600 * 1000;

const KINDS: readonly PurgeKind[] = ["tags", "routes", "urls", "prefixes"];

export function emptyPurgeState(): PurgeState {
  return { v: PURGE_STATE_VERSION, everything: [], tags: {}, routes: {}, urls: {}, prefixes: {} };
}

/** Adds one record to a target's records, keeping only what can still change a verdict. */
export function addRecord(records: PurgeRecords, record: PurgeRecord): PurgeRecords {
  let hard: number | null = null;
  let soft: number | null = null;
  for (const r of [...records, record]) {
    if (r.soft) soft = Math.max(soft ?? r.at, r.at);
    else hard = Math.max(hard ?? r.at, r.at);
  }
  const out: PurgeRecord[] = [];
  if (hard !== null) out.push({ at: hard, soft: false });
  if (soft !== null && (hard === null || soft > hard)) out.push({ at: soft, soft: true });
  return out;
}

/** `host/path?query` of a URL: the form prefixes are kept in, so http and https meet. */
export function prefixForm(url: URL): string {
  return `${url.host}${url.pathname}${url.search}`;
}

/**
 * Replays a stored state's records as purges into `table` (a `PurgeTable`, the one the
 * Worker checks every entry against): how the records an older version kept in KV
 * (`purge:v1`) still purge.
 */
export function replayState(state: PurgeState, table: { apply(target: PurgeTarget, soft: boolean, at: number): void }): void {
  for (const r of state.everything) table.apply({ kind: "everything" }, r.soft, r.at);
  for (const kind of KINDS) {
    for (const [value, records] of Object.entries(state[kind])) for (const r of records) table.apply({ kind, values: [value] }, r.soft, r.at);
  }
}

function own(map: Readonly<Record<string, PurgeRecords>>, key: string): PurgeRecords | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** The state with one more purge recorded at `at`, bounded. */
export function applyPurge(state: PurgeState, target: PurgeTarget, soft: boolean, at: number): PurgeState {
  const record = { at, soft };
  if (target.kind === "everything") {
    return boundState({ ...state, everything: addRecord(state.everything, record) }, at);
  }
  const map = { ...state[target.kind] };
  for (const value of target.values) {
    const key = target.kind === "tags" ? value.toLowerCase() : value;
    map[key] = addRecord(own(map, key) ?? [], record);
  }
  return boundState({ ...state, [target.kind]: map }, at);
}

/** Both states' records together: what two isolates (or KV and this isolate) know. */
export function mergeStates(a: PurgeState, b: PurgeState, now: number): PurgeState {
  let everything = a.everything;
  for (const r of b.everything) everything = addRecord(everything, r);
  const out = { ...a, everything } as { -readonly [K in keyof PurgeState]: PurgeState[K] };
  for (const kind of KINDS) {
    const map: Record<string, PurgeRecords> = { ...a[kind] };
    for (const [key, records] of Object.entries(b[kind])) {
      let merged = own(map, key) ?? [];
      for (const r of records) merged = addRecord(merged, r);
      map[key] = merged;
    }
    out[kind] = map;
  }
  return boundState(out, now);
}

/**
 * Keeps the state small without ever un-purging anything: records older than the
 * horizon go (nothing they could match still exists); records a purge of everything
 * already covers go; and past `MAX_RECORDS`, the oldest records of a kind are folded
 * into a purge of everything at their time, which may purge more than was asked
 * (a refetch) but never less.
 */
export function boundState(state: PurgeState, now: number, caps: Readonly<Record<PurgeKind, number>> = MAX_RECORDS): PurgeState {
  const floor = now - RECORD_HORIZON_MS;
  let everything: PurgeRecords = state.everything.filter((r) => r.at >= floor);
  const kept: Record<PurgeKind, Record<string, PurgeRecords>> = { tags: {}, routes: {}, urls: {}, prefixes: {} };
  for (const kind of KINDS) {
    const entries = Object.entries(state[kind])
      .map(([key, records]) => [key, records.filter((r) => r.at >= floor)] as const)
      .filter(([, records]) => records.length > 0)
      // Newest first, so the oldest are the ones cut.
      .sort((x, y) => newest(y[1]) - newest(x[1]) || (x[0] < y[0] ? -1 : 1));
    const cut = entries.slice(caps[kind]);
    for (const [, records] of cut) for (const r of records) everything = addRecord(everything, r);
    kept[kind] = Object.fromEntries(entries.slice(0, caps[kind]));
  }
  const hardAll = everything.find((r) => !r.soft)?.at ?? -Infinity;
  const softAll = everything.find((r) => r.soft)?.at ?? -Infinity;
  // A record is covered when a purge of everything at least as strong is at least as late.
  const uncovered = (r: PurgeRecord) => r.at > hardAll && (!r.soft || r.at > softAll);
  const out: PurgeState = { v: PURGE_STATE_VERSION, everything, tags: {}, routes: {}, urls: {}, prefixes: {} };
  for (const kind of KINDS) {
    const map: Record<string, PurgeRecords> = {};
    for (const [key, records] of Object.entries(kept[kind])) {
      const left = records.filter(uncovered);
      if (left.length > 0) map[key] = left;
    }
    out[kind] = map;
  }
  return out;
}

function newest(records: PurgeRecords): number {
  return Math.max(...records.map((r) => r.at));
}

/** Reads a stored state; anything malformed or of another version is null (the caller decides). */
export function parsePurgeState(value: unknown): PurgeState | null {
  if (!isObject(value) || value.v !== PURGE_STATE_VERSION) return null;
  const everything = parseRecords(value.everything);
  if (everything === null) return null;
  const out: PurgeState = { ...emptyPurgeState(), everything };
  for (const kind of KINDS) {
    const map = value[kind];
    if (!isObject(map)) return null;
    const parsed: Record<string, PurgeRecords> = {};
    for (const [key, records] of Object.entries(map)) {
      const r = parseRecords(records);
      if (r === null) return null;
      parsed[key] = r;
    }
    out[kind] = parsed;
  }
  return out;
}

function parseRecords(value: unknown): PurgeRecords | null {
  if (!Array.isArray(value)) return null;
  let out: PurgeRecords = [];
  for (const r of value) {
    if (!isObject(r) || typeof r.at !== "number" || !Number.isFinite(r.at) || typeof r.soft !== "boolean") return null;
    out = addRecord(out, { at: r.at, soft: r.soft });
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
