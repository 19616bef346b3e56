/**
 * Origin health, as data and transitions (README "Origin health"). After N
 * consecutive failures (a connection error, a timeout, a 5xx) the origin is down
 * for a cool-off; then one request at a time probes it. A probe that fails doubles
 * the cool-off (up to 5 min); any answer below 500 makes it healthy again. Pure:
 * the time is an argument; the per-isolate store is src/pipeline/origin-gate.ts.
 */

/** The route's setting, compiled (`originHealth`). */
export interface HealthSetting {
  failures: number;
  coolOffMs: number;
}

export interface OriginHealth {
  /** Consecutive failures seen while up. */
  failures: number;
  /** null = up; else down until this time (ms since epoch). */
  downUntil: number | null;
  /** The current down period's cool-off, ms. */
  coolOffMs: number;
  /** A probe is out until this time (ms); null = none. A lease, so a lost probe cannot block recovery. */
  probeUntil: number | null;
}

export const HEALTHY: OriginHealth = Object.freeze({ failures: 0, downUntil: null, coolOffMs: 0, probeUntil: null });

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

/** An answer below 500: the origin is up, whoever asked (a request admitted before it went down counts too). */
export function afterSuccess(): OriginHealth {
  return HEALTHY;
}

/**
 * A failure. While up it counts towards `setting.failures`; the probe's failure
 * doubles the cool-off; a request admitted before the origin went down changes nothing.
 */
export function afterFailure(state: OriginHealth, now: number, setting: HealthSetting, probe: boolean): OriginHealth {
  if (state.downUntil === null) {
    const failures = state.failures + 1;
    if (failures < setting.failures) return { ...state, failures };
    return { failures: 0, downUntil: now + setting.coolOffMs, coolOffMs: setting.coolOffMs, probeUntil: null };
  }
  if (!probe) return state;
  const coolOffMs = Math.min(MAX_COOL_OFF_MS, state.coolOffMs * 2);
  return { failures: 0, downUntil: now + coolOffMs, coolOffMs, probeUntil: null };
}
