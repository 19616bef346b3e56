/**
 * What both tiers offer the pipeline. Every method resolves, never rejects: a failing
 * tier is a miss (or a skipped write), logged, and never fails a request (ARCHITECTURE.md, invariant 2).
 */
import type { EntryMeta, StoredEntry } from "./entry";

export type TierName = "edge" | "kv";

/** Where an entry lives: the readable key, its storage name (see `storageKey`), and the host it belongs to. */
export interface StorageKey {
  key: string;
  hash: string;
  host: string;
}

export interface Tier {
  readonly name: TierName;
  get(at: StorageKey): Promise<StoredEntry | null>;
  /** Streams `body` into the tier; resolves true only when the tier accepted all of it. */
  put(at: StorageKey, meta: EntryMeta, body: ReadableStream<Uint8Array> | null, retentionSeconds: number): Promise<boolean>;
  delete(at: StorageKey): Promise<void>;
}

/** Where a tier's failure lines go: the Worker's `log` seam. */
export type TierLog = (line: Record<string, unknown>) => void;

/** Until a Worker passes its own `log`: one JSON line on stderr. */
export const consoleLog: TierLog = (line) => console.error(JSON.stringify(line));

/** One line per tier failure, so operators can see a sick tier without it hurting anyone. */
export function logTierError(log: TierLog, tier: TierName, op: string, err: unknown): void {
  log({ msg: "tier-error", tier, op, error: err instanceof Error ? err.message : String(err) });
}
