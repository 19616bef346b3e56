/**
 * Origin health, as data and transitions (docs/origin-health.md). Pure: times are
 * arguments; the per-isolate store is src/pipeline/origin-gate.ts.
 *
 * What an origin fetch comes to (`weigh`):
 * - a failure: the origin could not be reached: the fetch threw before any response
 *   header (refused, reset, DNS, TLS), or Cloudflare answered for the origin that it
 *   could not reach it (521, 522, 523, 525, 526, 530). A route may count more
 *   (`originHealth.count`): "timeout" (no response headers within `originTimeout`, or
 *   Cloudflare's 524) and "5xx" (any status of 500 or more);
 * - an answer: any other response, a 5xx included: the application answered, so the
 *   origin is up. One URL's errors are that URL's, never the site's;
 * - neither: a timeout (or a 524) the route does not count: a slow endpoint says
 *   nothing about the others.
 *
 * Every outcome carries the time its request was sent. Ties count as "after", so a
 * coarse clock errs towards up.
 * - Up, a failure of a request sent at `t` counts unless an answer has been seen to a
 *   request sent at or after `t`, whichever arrived first (a report that times out
 *   after 30 s while pages sent since were answered is no outage). The origin is down
 *   once `failures` (the failing route's setting) failures count.
 * - Down, for the cool-off; then one request at a time probes it (a lease, so a lost
 *   probe cannot block recovery). The outage ends with an answer to a request sent at
 *   or after the latest counted failure (the probe, or one sent while the failures
 *   came in); an older answer does not end it. A probe's failure starts a cool-off
 *   twice as long (up to 5 min); a probe that comes to neither frees the lease for
 *   the next request; other failures while down change nothing.
 */

/** What a route may count beyond connection failures (`originHealth.count`). */
export const HEALTH_COUNTS = ["timeout", "5xx"] as const;
export type HealthCount = (typeof HEALTH_COUNTS)[number];

/** The route's setting, compiled (`originHealth`). */
export interface HealthSetting {
  failures: number;
  coolOffMs: number;
  /** Counted beyond connection failures; absent = nothing more. */
  count?: readonly HealthCount[];
}

/** One origin fetch: the status it got, or why it got none. */
export type Outcome = { status: number } | { error: "timeout" | "connection" };

export type Verdict = "answer" | "failure" | "neither";

/** Cloudflare's own "origin unreachable" answers: down, connect timeout, unreachable, TLS handshake, certificate, DNS (530/1xxx). */
const UNREACHABLE = new Set([521, 522, 523, 525, 526, 530]);
/** Cloudflare's "a timeout occurred": connected, but no answer in time. */
const CLOUDFLARE_TIMEOUT = 524;

/** Whether one fetch was the origin's failure, an answer, or neither, for a route counting `count`. */
export function weigh(outcome: Outcome, count: readonly HealthCount[] = []): Verdict {
  if ("error" in outcome) return outcome.error === "connection" || count.includes("timeout") ? "failure" : "neither";
  const { status } = outcome;
  if (UNREACHABLE.has(status)) return "failure";
  if (status >= 500 && count.includes("5xx")) return "failure";
  if (status === CLOUDFLARE_TIMEOUT) return count.includes("timeout") ? "failure" : "neither";
  return "answer";
}

export interface OriginHealth {
  /** Up: the send times (ms) of the failures that count, at most one less than the largest `failures` seen. */
  failures: readonly number[];
  /** The latest send time of a request that got an answer; -Infinity = none yet. */
  answeredSent: number;
  /** null = up; else down until this time (ms since epoch). */
  downUntil: number | null;
  /** Down: the send time of the latest counted failure (the probe's included). */
  lastFailureSent: number;
  /** The current down period's cool-off, ms. */
  coolOffMs: number;
  /** A probe is out until this time (ms); null = none. */
  probeUntil: number | null;
}

export const HEALTHY: OriginHealth = Object.freeze({
  failures: Object.freeze([]) as readonly number[],
  answeredSent: -Infinity,
  downUntil: null,
  lastFailureSent: -Infinity,
  coolOffMs: 0,
  probeUntil: null,
});

/** The cool-off doubles up to this while the origin stays down. */
export const MAX_COOL_OFF_MS = 300_000;

/** What a request may do: ask the origin, ask it as the one probe, or not ask (down, for `retryAfter` more seconds). */
export type Admission = { go: "origin" } | { go: "probe" } | { go: "down"; retryAfter: number };

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Whether a request may go to the origin now; a probe holds its lease for `probeLeaseMs`. */
export function admit(state: OriginHealth, now: number, probeLeaseMs: number): { admission: Admission; state: OriginHealth } {
  if (state.downUntil === null) return { admission: { go: "origin" }, state };
  if (now < state.downUntil) return { admission: { go: "down", retryAfter: seconds(state.downUntil - now) }, state };
  if (state.probeUntil !== null && now < state.probeUntil) {
    return { admission: { go: "down", retryAfter: seconds(state.probeUntil - now) }, state };
  }
  return { admission: { go: "probe" }, state: { ...state, probeUntil: now + probeLeaseMs } };
}

/** An answer to a request sent at `sentAt`: the failures sent at or before it stop counting; down, it may end the outage. */
export function afterAnswer(state: OriginHealth, sentAt: number): OriginHealth {
  const answeredSent = Math.max(state.answeredSent, sentAt);
  if (state.downUntil !== null) {
    return sentAt >= state.lastFailureSent ? { ...HEALTHY, answeredSent } : { ...state, answeredSent };
  }
  return { ...state, answeredSent, failures: state.failures.filter((t) => t > sentAt) };
}

/** A failure of a request sent at `sentAt`, seen at `now`; `probe`: it was the probe. */
export function afterFailure(state: OriginHealth, sentAt: number, now: number, setting: HealthSetting, probe: boolean): OriginHealth {
  if (state.downUntil === null) {
    if (sentAt <= state.answeredSent) return state;
    const failures = [...state.failures, sentAt];
    if (failures.length < setting.failures) return { ...state, failures };
    return down(state, Math.max(...failures), now, setting.coolOffMs);
  }
  if (!probe) return state;
  return down(state, Math.max(state.lastFailureSent, sentAt), now, Math.min(MAX_COOL_OFF_MS, state.coolOffMs * 2));
}

/** An outcome that is neither: the probe's lease is freed so that the next request probes; nothing else changes. */
export function afterNeither(state: OriginHealth, probe: boolean): OriginHealth {
  return probe && state.downUntil !== null ? { ...state, probeUntil: null } : state;
}

/** The one entry point: `outcome` of a request sent at `sentAt`, seen at `now`, weighed by the route's `setting`. */
export function observe(state: OriginHealth, outcome: Outcome, sentAt: number, now: number, setting: HealthSetting, probe: boolean): OriginHealth {
  switch (weigh(outcome, setting.count)) {
    case "answer":
      return afterAnswer(state, sentAt);
    case "failure":
      return afterFailure(state, sentAt, now, setting, probe);
    case "neither":
      return afterNeither(state, probe);
  }
}

function down(state: OriginHealth, lastFailureSent: number, now: number, coolOffMs: number): OriginHealth {
  return { failures: HEALTHY.failures, answeredSent: state.answeredSent, downUntil: now + coolOffMs, lastFailureSent, coolOffMs, probeUntil: null };
}
