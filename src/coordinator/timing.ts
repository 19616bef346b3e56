/**
 * The timing of the site's shared state (purges, rules, builds) as every isolate sees
 * it: one room for the constants the snapshot (src/coordinator/site-state.ts), the
 * purge store and the rules source share.
 *
 * Propagation: the isolate that records a change applies it at once; every other
 * isolate that serves requests refreshes once its copy is `REFRESH_MS` old (in the
 * background: from its location's copy, or by asking the coordinator when that copy
 * is as old) and never serves from a copy older than `BOUND_MS` without first waiting
 * up to `WAIT_MS` for a fresh one. A copy's age counts from when its coordinator
 * call was sent, whichever isolate of the location sent it.
 */

/** How old a copy (the isolate's, or its location's) may get before it is refreshed. */
export const REFRESH_MS = 2_000;
/** The propagation bound: no isolate serves a copy older than this without asking first. */
export const BOUND_MS = 5_000;
/** Longest a request waits for a refresh of a copy older than the bound. */
export const WAIT_MS = 300;
/** A read of the coordinator that takes longer counts as failed: the KV copies serve. */
export const COORDINATOR_TIMEOUT_MS = 1_000;
/** A cold load (a new isolate's first call: up to 250,000 purge rows, 6 MB) may take longer than a delta. */
export const COLD_LOAD_TIMEOUT_MS = 2_500;
/** A write to the coordinator (a purge, a rules upload, a build) may take longer than a read. */
export const COORDINATOR_WRITE_TIMEOUT_MS = COORDINATOR_TIMEOUT_MS * 5;
/** A KV read that takes longer counts as failed: the last known state serves. */
export const KV_READ_TIMEOUT_MS = 1_500;
/**
 * How long the isolate that asks the coordinator for its location holds the ask: the
 * others of the location leave it the call meanwhile (a little over its timeout).
 */
export const LEASE_MS = COORDINATOR_TIMEOUT_MS + 200;
