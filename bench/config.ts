/**
 * The bench's command line and the size of each case per mode:
 *
 *   npm run bench                 the full run (11 to 12 minutes on 2 cores)
 *   npm run bench -- --quick      every case, smaller, about 70 s (under 2 minutes)
 *   npm run bench -- --smoke      every case, tiny: checks the harness works (the test uses it)
 *
 *   --out FILE        where the JSON goes (default bench/results/latest.json)
 *   --cases a,b       run only these cases (edge-hit, kv-hit, kv-hit-logged, herd, offload, memory, stale,
 *                     locations-herd, purge-race, isolates, cold-isolate, purge-log)
 *   --no-nginx        leave nginx out even when it is installed
 *   --entry FILE      the edge-cache Worker entry to bundle (default src/index.ts), e.g.
 *                     a checkout of another commit, to compare two builds on one machine
 */
import { parseArgs } from "node:util";

export const CASES = ["edge-hit", "kv-hit", "kv-hit-logged", "herd", "offload", "memory", "stale", "locations-herd", "purge-race", "isolates", "cold-isolate", "purge-log"] as const;
export type CaseId = (typeof CASES)[number];
export type Mode = "full" | "quick" | "smoke";

export interface BenchConfig {
  mode: Mode;
  out: string | null;
  cases: CaseId[];
  nginx: boolean;
  entry: string | null;
  /** Throughput cases: measured pairs (A B), seconds per trial, connections, hot URLs. */
  throughput: { pairs: number; trialMs: number; warmupMs: number; connections: number; urls: number };
  herd: { runs: number; concurrency: number };
  offload: { runs: number; requests: number; urls: number; concurrency: number };
  /** Memory: runs and body size; the slow reader's body, read rate, read time, and settling time after the drop. */
  memory: { runs: number; bytes: number; slowReader: { bytes: number; bytesPerSecond: number; seconds: number; settleMs: number } };
  /** Stale: requests, keys, and whether to wait out the KV baseline's 60 s TTL. */
  stale: { requests: number; keys: number; concurrency: number; waitForKvTtl: boolean };
}

export class UsageError extends Error {}

/** A 200 MiB miss read at 64 KiB/s for 20 s, then dropped (issue 10, item 8). */
const SLOW_READER = { bytes: 200 * 1024 * 1024, bytesPerSecond: 64 * 1024, seconds: 20, settleMs: 5_000 };

const SIZES: Record<Mode, Omit<BenchConfig, "mode" | "out" | "cases" | "nginx" | "entry">> = {
  full: {
    throughput: { pairs: 5, trialMs: 8_000, warmupMs: 2_000, connections: 16, urls: 64 },
    herd: { runs: 3, concurrency: 100 },
    offload: { runs: 2, requests: 20_000, urls: 2_000, concurrency: 16 },
    memory: { runs: 2, bytes: 200 * 1024 * 1024, slowReader: SLOW_READER },
    stale: { requests: 1_000, keys: 50, concurrency: 8, waitForKvTtl: true },
  },
  quick: {
    throughput: { pairs: 3, trialMs: 2_000, warmupMs: 1_000, connections: 16, urls: 64 },
    herd: { runs: 1, concurrency: 100 },
    offload: { runs: 1, requests: 3_000, urls: 300, concurrency: 16 },
    memory: { runs: 1, bytes: 200 * 1024 * 1024, slowReader: SLOW_READER },
    stale: { requests: 1_000, keys: 50, concurrency: 8, waitForKvTtl: true },
  },
  smoke: {
    throughput: { pairs: 1, trialMs: 400, warmupMs: 200, connections: 4, urls: 8 },
    herd: { runs: 1, concurrency: 20 },
    offload: { runs: 1, requests: 300, urls: 60, concurrency: 8 },
    memory: { runs: 1, bytes: 8 * 1024 * 1024, slowReader: { ...SLOW_READER, bytes: 8 * 1024 * 1024, seconds: 2, settleMs: 1_000 } },
    stale: { requests: 50, keys: 5, concurrency: 4, waitForKvTtl: false },
  },
};

export function parseBenchArgs(argv: string[]): BenchConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: "boolean", default: false },
        smoke: { type: "boolean", default: false },
        out: { type: "string" },
        cases: { type: "string" },
        "no-nginx": { type: "boolean", default: false },
        entry: { type: "string" },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.quick && values.smoke) throw new UsageError("--quick and --smoke exclude each other");
  const mode: Mode = values.smoke ? "smoke" : values.quick ? "quick" : "full";
  let cases: CaseId[] = [...CASES];
  if (values.cases) {
    const wanted = values.cases.split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((c) => !(CASES as readonly string[]).includes(c));
    if (unknown.length) throw new UsageError(`unknown case(s) ${unknown.join(", ")}; known: ${CASES.join(", ")}`);
    cases = CASES.filter((c) => wanted.includes(c));
  }
  return { mode, out: values.out ?? null, cases, nginx: !values["no-nginx"], entry: values.entry ?? null, ...SIZES[mode] };
}
