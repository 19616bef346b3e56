/**
 * One Workers Analytics Engine data point per request, when the `ANALYTICS` binding
 * exists. The order of blobs and doubles is the schema (docs/statistics.md, "Analytics Engine"); new
 * fields go at the end so that saved queries keep working.
 */
import { fromCache, type Outcome } from "./outcome";

/** What one data point is made of. */
export interface PointInput {
  host: string;
  route: string | null;
  method: string;
  status: number;
  outcome: Outcome;
  bytes: number;
  originMs: number | null;
  kvRead: boolean;
  /** Already cleaned (see clean-url.ts). */
  url: string;
}

/** Analytics Engine limits an index to 96 bytes. */
const MAX_INDEX = 96;

export function dataPoint(p: PointInput): AnalyticsEngineDataPoint {
  return {
    indexes: [p.host.slice(0, MAX_INDEX)],
    blobs: [p.route ?? "(none)", p.outcome.kind, p.outcome.reason ?? "", p.outcome.tier ?? "", p.method, p.url],
    doubles: [p.status, p.bytes, p.originMs ?? 0, p.originMs === null ? 0 : 1, fromCache(p.outcome) ? 1 : 0, p.kvRead ? 1 : 0],
  };
}

/** Writes points; a failing binding is logged once and never fails a request. */
export function analyticsWriter(dataset: AnalyticsEngineDataset | undefined, log: (line: Record<string, unknown>) => void): ((p: PointInput) => void) | null {
  if (!dataset) return null;
  let warned = false;
  return (p) => {
    try {
      dataset.writeDataPoint(dataPoint(p));
    } catch (err) {
      if (!warned) log({ msg: "analytics-error", error: err instanceof Error ? err.message : String(err) });
      warned = true;
    }
  };
}
