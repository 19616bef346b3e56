/**
 * The results: `bench/results/latest.json` (or --out) with every figure and its
 * spread, and a Markdown table for the terminal and docs/reference/benchmarks.md.
 */
import type { ColdIsolateResult, IsolatesGrowthResult, PurgeLogResult } from "./cases/isolates";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CaseId, Mode } from "./config";
import { LABELS, type ContenderId } from "./contenders";
import type { HerdResult } from "./cases/herd";
import type { MemoryResult } from "./cases/memory";
import type { OffloadResult } from "./cases/offload";
import type { LocationsHerdResult, PurgeRaceResult } from "./cases/locations";
import type { StaleResult } from "./cases/stale";
import type { ThroughputResult } from "./cases/throughput";
import type { machineInfo, versions } from "./machine";

export interface Results {
  schema: 1;
  date: string;
  quick: boolean;
  mode: Mode;
  command: string;
  durationSeconds: number;
  machine: ReturnType<typeof machineInfo>;
  versions: ReturnType<typeof versions>;
  contenders: Partial<Record<ContenderId, { label: string; runtime: string }>>;
  notes: string[];
  cases: {
    "edge-hit"?: ThroughputResult | { skipped: string };
    "kv-hit"?: ThroughputResult | { skipped: string };
    "kv-hit-logged"?: ThroughputResult | { skipped: string };
    herd?: HerdResult;
    offload?: OffloadResult & { coordinatorRequests?: number; kvWrites?: Partial<Record<ContenderId, number>> };
    memory?: MemoryResult;
    stale?: StaleResult;
    "locations-herd"?: LocationsHerdResult;
    "purge-race"?: PurgeRaceResult;
    isolates?: IsolatesGrowthResult;
    "cold-isolate"?: ColdIsolateResult;
    "purge-log"?: PurgeLogResult;
  };
  /** Per-case errors of the harness itself (a case that could not run). */
  failures: Partial<Record<CaseId, string>>;
  /** What each Worker wrote to stderr (its error log): line count and the first lines. */
  workerLogs: Partial<Record<ContenderId, { stderrLines: number; samples: string[]; logged5xx: string[] }>>;
}

export async function writeResults(file: string, results: Results): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}

const COLUMNS: ContenderId[] = ["edge-cache", "cache-api-worker", "kv-worker", "nginx"];
const DASH = "–";

function isThroughput(x: ThroughputResult | { skipped: string } | undefined): x is ThroughputResult {
  return x !== undefined && !("skipped" in x);
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? DASH : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mark = (met: boolean) => (met ? "met" : "**missed**");
const errs = (n: number | undefined) => (n ? `, ${fmt(n)} errors` : "");

/** The results as a Markdown table: one row per case, one column per contender. */
export function table(r: Results): string {
  const present = COLUMNS.filter((id) => r.contenders[id]);
  const head = `| Case | ${present.map((id) => LABELS[id]).join(" | ")} | Goal | Result |`;
  const sep = `|---|${present.map(() => "---:").join("|")}|---|---|`;
  const rows: string[] = [];
  const row = (name: string, cell: (id: ContenderId) => string, goal: string, result: string) =>
    rows.push(`| ${name} | ${present.map(cell).join(" | ")} | ${goal} | ${result} |`);

  const throughputRow = (n: string, t: ThroughputResult | { skipped: string } | undefined, what: string) => {
    if (!t) return;
    if (!isThroughput(t)) return rows.push(`| ${n} ${what} | ${present.map(() => DASH).join(" | ")} | | skipped: ${t.skipped} |`);
    row(
      `${n} ${what}: req/s (p50 / p99 ms) [CPU ms/req]`,
      (id) =>
        t.rps[id]
          ? `${fmt(t.rps[id]!.median)} (${fmt(t.p50ms[id]!.median, 1)} / ${fmt(t.p99ms[id]!.median, 1)}) [${fmt(t.cpuMsPerRequest[id]?.median, 2)}]${errs(t.errors[id])}`
          : DASH,
      `edge-cache ÷ ${LABELS[t.baseline]} ≥ 0.9`,
      `${fmt(t.ratio, 2)} (${fmt(t.ratioSpread.min, 2)}–${fmt(t.ratioSpread.max, 2)}) ${mark(t.met)}`,
    );
  };
  throughputRow("1.", r.cases["edge-hit"], "Edge hit");
  throughputRow("2.", r.cases["kv-hit"], "KV hit (edge tier off)");
  throughputRow("2b.", r.cases["kv-hit-logged"], "KV hit, every request logged");

  const h = r.cases.herd;
  if (h) {
    row(
      `3. Herd: origin fetches for ${h.concurrency} concurrent requests to one cold URL`,
      (id) => (h.originFetches[id] === undefined ? DASH : `${fmt(h.originFetches[id])}${errs(h.errors[id])}`),
      "1",
      `${fmt(h.originFetches["edge-cache"])} ${mark(h.met)}`,
    );
  }
  const o = r.cases.offload;
  if (o) {
    row(
      `4. Offload: origin fetches, ${fmt(o.requests)} requests over ${fmt(o.urls)} Zipf URLs (${fmt(o.distinctRaw)} distinct raw)`,
      (id) =>
        o.originFetches[id] === undefined ? DASH : `${fmt(o.originFetches[id])} (${fmt(o.offload[id]! * 100, 1)} % offload)${errs(o.errors[id])}`,
      `= ideal ${fmt(o.ideal)}`,
      `${fmt(o.originFetches["edge-cache"])} ${mark(o.met)}`,
    );
  }
  const m = r.cases.memory;
  if (m) {
    row(
      `5. Memory: workerd peak RSS growth, ${fmt(m.bodyMB)} MiB miss + second request`,
      (id) => (m.growthMB[id] === undefined ? DASH : `+${fmt(m.growthMB[id], 0)} MB`),
      "< 64 MB",
      `+${fmt(m.growthMB["edge-cache"], 0)} MB ${mark(m.met)}`,
    );
    const sr = m.slowReader;
    row(
      `5b. Memory: workerd peak RSS growth, ${fmt(sr.bodyMB)} MiB miss read at ${fmt(sr.readKiBps)} KiB/s for ${fmt(sr.readSeconds)} s, then dropped`,
      (id) => (sr.growthMB[id] === undefined ? DASH : `+${fmt(sr.growthMB[id], 0)} MB`),
      "< 64 MB",
      `+${fmt(sr.growthMB["edge-cache"], 0)} MB ${mark(sr.met)}`,
    );
  }
  const s = r.cases.stale;
  if (s) {
    row(
      `6. Stale: errors in ${fmt(s.requests)} requests, origin down, entries ${fmt(s.entryAgeSeconds)} s old`,
      (id) => (s.errors[id] === undefined ? DASH : fmt(s.errors[id])),
      "0",
      `${fmt(s.errors["edge-cache"])} ${mark(s.met)}`,
    );
  }
  return [head, sep, ...rows].join("\n");
}

/** The short story for the terminal: machine, mode, table, notes, failures. */
export function summary(r: Results, file: string): string {
  const lines = [
    "",
    `edge-cache benchmark, ${r.mode} run, ${r.date} (${r.durationSeconds.toFixed(0)} s)`,
    `${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGB} GB; Node ${r.versions.node}, workerd ${r.versions.workerd} (miniflare ${r.versions.miniflare})${r.versions.nginx ? `, nginx ${r.versions.nginx}` : ""}`,
    "",
    table(r),
    "",
  ];
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const [c, e] of Object.entries(r.failures)) lines.push(`FAILED ${c}: ${e}`);
  for (const [id, l] of Object.entries(r.workerLogs)) {
    if (l.stderrLines > 0) lines.push(`${id} logged ${l.stderrLines} stderr lines, e.g. ${l.samples[0] ?? ""}`);
    if (l.logged5xx.length > 0) lines.push(`${id} logged 5xx answers, e.g. ${l.logged5xx[0]}`);
  }
  lines.push(`results: ${file}`, "");
  return lines.join("\n");
}
