/**
 * What a request's steps report about themselves, for Server-Timing and the log
 * line: time per stage, the tier that answered, the origin's status. The one
 * writable thing a step is handed; decisions never go in here, only measurements.
 */
import type { TierName } from "../tiers/tier";

/** Milliseconds spent per stage. */
export interface Timings {
  edge?: number;
  kv?: number;
  origin?: number;
}

export class Recorder {
  readonly timings: Timings = {};
  /** Where the response came from, when a tier answered. */
  tier: TierName | null = null;
  /** The origin's status, when it was asked. */
  originStatus: number | null = null;

  /** Adds `ms` to a stage (a request may visit one twice: a lookup after collapsing). */
  time(stage: keyof Timings, ms: number): void {
    this.timings[stage] = (this.timings[stage] ?? 0) + ms;
  }
}
