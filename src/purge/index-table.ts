/**
 * The purge records one isolate holds, in a form whose size is known: one row per
 * purged target, keyed by a 53-bit hash of the target, with the time of its latest
 * hard and latest soft purge in whole seconds, rounded up (0 = none): 16 bytes a row
 * in three sorted typed arrays, plus a small map of rows not merged in yet. Rounding
 * up can only purge an entry stored in the same second as the purge (one refetch).
 * Pure: no I/O, no clock.
 *
 * A hash collision can only make an entry look purged when it is not (one refetch);
 * it can never hide a purge. Past `MAX_ROWS` the oldest rows are dropped and `floor`
 * remembers their newest time: an entry stored at or before it might be covered by a
 * dropped row, so it is revalidated (treated as soft-purged), never served as fresh
 * on a guess and never turned into a purge of everything.
 */
import type { PurgeKind, PurgeTarget } from "./records";

/** Most rows held per isolate: 250,000 × 16 bytes = 4 MB. */
export const MAX_ROWS = 250_000;
const MAX_PENDING = 4_096;
/** Bytes per merged row: the hash (float64) and two times (uint32 seconds). */
export const ROW_BYTES = 16;
/** The arrays never grow past this; with one resize in flight (old and new copies) the table holds at most 1.5× it. */
const MAX_CAPACITY = MAX_ROWS + MAX_PENDING;

export type Verdict = "hard" | "soft" | null;

/** What `verdict` needs of an entry (its meta) and its normalized cache URL. */
export interface PurgedEntry {
  storedAt: number;
  /** When its origin request was sent: what purges are compared with (storedAt when absent). */
  requestedAt?: number;
  route: string;
  tags: readonly string[];
}

/** 53-bit hash (cyrb53), fed one UTF-16 unit at a time so every prefix of a string is hashed in one pass. */
class Hasher {
  private h1 = 0xdeadbeef;
  private h2 = 0x41c6ce57;
  push(text: string): this {
    for (let i = 0; i < text.length; i++) this.unit(text.charCodeAt(i));
    return this;
  }
  unit(ch: number): void {
    this.h1 = Math.imul(this.h1 ^ ch, 2654435761);
    this.h2 = Math.imul(this.h2 ^ ch, 1597334677);
  }
  value(): number {
    let h1 = Math.imul(this.h1 ^ (this.h1 >>> 16), 2246822507);
    h1 ^= Math.imul(this.h2 ^ (this.h2 >>> 13), 3266489909);
    let h2 = Math.imul(this.h2 ^ (this.h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }
}

/** The key of one target: the kind and its normalized value (tags lower-cased, as Cloudflare compares them). */
export function targetHash(kind: PurgeKind, value: string): number {
  return new Hasher().push(kind).push("\n").push(kind === "tags" ? value.toLowerCase() : value).value();
}

/** The hashes a purge target stands for (none for "everything"). */
export function targetHashes(target: PurgeTarget): number[] {
  return target.kind === "everything" ? [] : target.values.map((v) => targetHash(target.kind as PurgeKind, v));
}

function verdictOf(hard: number, soft: number, storedAt: number): Verdict {
  if (hard > 0 && hard >= storedAt) return "hard";
  return soft > 0 && soft >= storedAt ? "soft" : null;
}

function stronger(a: Verdict, b: Verdict): Verdict {
  return a === "hard" || b === "hard" ? "hard" : a ?? b;
}

const seconds = (ms: number) => Math.min(0xffffffff, Math.ceil(ms / 1000));

export class PurgeTable {
  /** The coordinator's sequence number this table is complete up to. */
  sequence = 0;
  /** Purges of everything, in ms (exact: there are only two). */
  everything = { hard: 0, soft: 0 };
  /** Entries stored at or before this time (ms) may be covered by a dropped row. */
  floor = 0;
  private n = 0;
  private keys = new Float64Array(0);
  private hard = new Uint32Array(0);
  private soft = new Uint32Array(0);
  /** Rows not merged yet, by hash: [hard, soft] in seconds. */
  private pending = new Map<number, [number, number]>();
  /** The newest time of any row ever added, ms: an upper bound (dropped rows keep it). */
  private newestRow = 0;

  get size(): number {
    this.compact();
    return this.n;
  }

  /** Bytes allocated for rows: what the per-isolate bound counts. */
  get bytes(): number {
    return this.keys.byteLength + this.hard.byteLength + this.soft.byteLength + this.pending.size * 64;
  }

  /** Merges one row (times in ms): the later time of each kind wins (records only ever add). */
  add(hash: number, hardMs: number, softMs: number): void {
    const hard = seconds(hardMs);
    const soft = seconds(softMs);
    this.newestRow = Math.max(this.newestRow, hard * 1000, soft * 1000);
    const had = this.pending.get(hash);
    if (had) {
      had[0] = Math.max(had[0], hard);
      had[1] = Math.max(had[1], soft);
    } else {
      this.pending.set(hash, [hard, soft]);
      if (this.pending.size >= MAX_PENDING) this.compact();
    }
  }

  /** Rows as the coordinator sends them: [hash, hard ms, soft ms] repeated. */
  addRows(rows: Float64Array): void {
    const count = Math.floor(rows.length / 3);
    // A cold load into an empty table: sorted once, not merged 4,096 rows at a time.
    if (this.n === 0 && this.pending.size === 0 && count > MAX_PENDING && count <= MAX_ROWS) return this.load(rows, count);
    for (let i = 0; i + 2 < rows.length; i += 3) this.add(rows[i]!, rows[i + 1]!, rows[i + 2]!);
  }

  private load(rows: Float64Array, count: number): void {
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    order.sort((a, b) => rows[a * 3]! - rows[b * 3]!);
    this.reserve(count);
    let n = 0;
    for (const i of order) {
      const key = rows[i * 3]!;
      const hard = seconds(rows[i * 3 + 1]!);
      const soft = seconds(rows[i * 3 + 2]!);
      this.newestRow = Math.max(this.newestRow, hard * 1000, soft * 1000);
      if (n > 0 && this.keys[n - 1] === key) {
        this.hard[n - 1] = Math.max(this.hard[n - 1]!, hard);
        this.soft[n - 1] = Math.max(this.soft[n - 1]!, soft);
        continue;
      }
      this.keys[n] = key;
      this.hard[n] = hard;
      this.soft[n] = soft;
      n++;
    }
    this.n = n;
  }

  addEverything(hard: number, soft: number): void {
    this.everything = { hard: Math.max(this.everything.hard, hard), soft: Math.max(this.everything.soft, soft) };
  }

  /** One purge applied here at once (before the coordinator's next delta brings it back). */
  apply(target: PurgeTarget, soft: boolean, at: number): void {
    if (target.kind === "everything") return this.addEverything(soft ? 0 : at, soft ? at : 0);
    for (const h of targetHashes(target)) this.add(h, soft ? 0 : at, soft ? at : 0);
  }

  /** Every row as the coordinator sends them ([hash, hard ms, soft ms] repeated): what a location's copy holds. */
  rows(): Float64Array {
    this.compact();
    const out = new Float64Array(this.n * 3);
    for (let r = 0; r < this.n; r++) {
      out[r * 3] = this.keys[r]!;
      out[r * 3 + 1] = this.hard[r]! * 1000;
      out[r * 3 + 2] = this.soft[r]! * 1000;
    }
    return out;
  }

  /** Drops rows whose newest purge is older than `before` (ms): nothing they cover can still be served. */
  prune(before: number): void {
    this.compact();
    this.dropWhere((newest) => newest * 1000 < before);
  }

  verdict(entry: PurgedEntry, url: URL): Verdict {
    // The answer's origin request time: an answer begun before a purge is covered by it.
    const s = entry.requestedAt ?? entry.storedAt;
    // O(1) for the common case: stored after every purge there is, so none can cover it.
    if (s > this.newestRow && s > this.floor && s > this.everything.hard && s > this.everything.soft) return null;
    let v = verdictOf(this.everything.hard, this.everything.soft, s);
    if (s <= this.floor) v = stronger(v, "soft");
    const check = (hash: number) => {
      const [hard, soft] = this.row(hash);
      v = stronger(v, verdictOf(hard * 1000, soft * 1000, s));
    };
    check(targetHash("routes", entry.route));
    check(targetHash("urls", url.href));
    for (const tag of entry.tags) check(targetHash("tags", tag));
    // Every prefix of `host/path?query` in one pass (prefix records are kept in that form).
    const form = `${url.host}${url.pathname}${url.search}`;
    const h = new Hasher().push("prefixes").push("\n");
    for (let i = 0; i < form.length && v !== "hard"; i++) {
      h.unit(form.charCodeAt(i));
      check(h.value());
    }
    return v;
  }

  private row(hash: number): [number, number] {
    const i = this.find(hash);
    const p = this.pending.get(hash);
    return [Math.max(i >= 0 ? this.hard[i]! : 0, p?.[0] ?? 0), Math.max(i >= 0 ? this.soft[i]! : 0, p?.[1] ?? 0)];
  }

  private find(hash: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.keys[mid]!;
      if (k === hash) return mid;
      if (k < hash) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Merges the pending rows into the sorted arrays (in place, from the end), then enforces the cap. */
  private compact(): void {
    if (this.pending.size === 0) return;
    const fresh: number[] = [];
    for (const [k, [hard, soft]] of this.pending) {
      const i = this.find(k);
      if (i >= 0) {
        this.hard[i] = Math.max(this.hard[i]!, hard);
        this.soft[i] = Math.max(this.soft[i]!, soft);
      } else fresh.push(k);
    }
    fresh.sort((a, b) => a - b);
    this.reserve(this.n + fresh.length);
    let i = this.n - 1;
    let j = fresh.length - 1;
    for (let w = this.n + fresh.length - 1; j >= 0; w--) {
      if (i >= 0 && this.keys[i]! > fresh[j]!) {
        this.keys[w] = this.keys[i]!;
        this.hard[w] = this.hard[i]!;
        this.soft[w] = this.soft[i]!;
        i--;
      } else {
        const k = fresh[j--]!;
        const [hard, soft] = this.pending.get(k)!;
        this.keys[w] = k;
        this.hard[w] = hard;
        this.soft[w] = soft;
      }
    }
    this.n += fresh.length;
    this.pending.clear();
    if (this.n > MAX_ROWS) {
      // The time below which the oldest rows go; ties go too (a little more than needed).
      const times = new Uint32Array(this.n);
      for (let r = 0; r < this.n; r++) times[r] = Math.max(this.hard[r]!, this.soft[r]!);
      times.sort();
      const cut = times[this.n - MAX_ROWS - 1]!;
      this.floor = Math.max(this.floor, cut * 1000);
      this.dropWhere((newest) => newest <= cut);
    }
  }

  /** Removes the merged rows whose newest time (seconds) matches, keeping the order. */
  private dropWhere(drop: (newest: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.n; r++) {
      if (drop(Math.max(this.hard[r]!, this.soft[r]!))) continue;
      this.keys[w] = this.keys[r]!;
      this.hard[w] = this.hard[r]!;
      this.soft[w] = this.soft[r]!;
      w++;
    }
    this.n = w;
  }

  private reserve(rows: number): void {
    if (rows <= this.keys.length) return;
    const capacity = Math.min(MAX_CAPACITY, Math.max(rows, 1024, this.keys.length * 2));
    const grow = <T extends Float64Array | Uint32Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old.subarray(0, this.n) as never);
      return next;
    };
    this.keys = grow(this.keys, (c) => new Float64Array(c));
    this.hard = grow(this.hard, (c) => new Uint32Array(c));
    this.soft = grow(this.soft, (c) => new Uint32Array(c));
  }
}
