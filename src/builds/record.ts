/**
 * Builds of the origin (`buildHeader`, docs/deploys.md), as data.
 * The coordinator keeps one record per header name: the current value, since when,
 * and the values it replaced lately. A value is a new build when it is neither the
 * current one nor one replaced within `FLAP_MS`: during a rolling deploy the old
 * servers keep answering for a while, and each of their answers must not count as a
 * deploy (a rollback to an older value counts once that window has passed). Pure.
 */

/** How long a replaced value is still taken for the old servers of a rolling deploy. */
export const FLAP_MS = 10 * 60_000;
/** Replaced values remembered per header. */
const RECENT = 8;

export interface BuildRecord {
  value: string;
  /** When the value became current (ms since epoch; the coordinator's time). */
  at: number;
  /** Values it replaced lately, and until when each is still taken for an old server. */
  recent: { value: string; until: number }[];
}

/**
 * The record after an origin answer carried `value` at `now`; `changed` when it is a
 * new build (entries stored before `now` on the header's routes are then stale).
 * The very first value seen is current without being a change: nothing says the
 * entries stored until then are older.
 */
export function nextBuild(current: BuildRecord | null, value: string, now: number): { record: BuildRecord; changed: boolean } {
  if (current === null) return { record: { value, at: now, recent: [] }, changed: false };
  const recent = current.recent.filter((r) => r.until > now);
  if (value === current.value || recent.some((r) => r.value === value)) return { record: { ...current, recent }, changed: false };
  const replaced = [{ value: current.value, until: now + FLAP_MS }, ...recent.filter((r) => r.value !== value)].slice(0, RECENT);
  return { record: { value, at: now, recent: replaced }, changed: true };
}
