/**
 * `npm run bench [-- --quick | --smoke] [--out FILE] [--cases a,b] [--no-nginx]`
 *
 * Starts a real origin on 127.0.0.1, the contenders (edge-cache and two seed-style
 * Workers under workerd via Miniflare, nginx when installed), runs every case, prints
 * a table and writes the results as JSON. See bench/config.ts for the sizes per mode.
 */
// Set before anything that may load wrangler or miniflare.
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
// Node 20 has no URLPattern, which validating the rules needs.
import "urlpattern-polyfill";
import { parseRulesText } from "../src/rules/parse";
import { herdCase } from "./cases/herd";
import { memoryCase } from "./cases/memory";
import { offloadCase } from "./cases/offload";
import { BENCH_TOKEN, locationsHerdCase, offloadCounts, purgeRaceCase } from "./cases/locations";
import { coldIsolateCase, isolatesGrowthCase, purgeLogCase } from "./cases/isolates";
import { bundleWorker, startWorker } from "./runtime";
import { prepareStale, staleCase, type StaleSetup } from "./cases/stale";
import { EDGE_HIT, KV_HIT, KV_HIT_LOGGED, throughputCase } from "./cases/throughput";
import type { BenchContext } from "./cases/context";
import { parseBenchArgs, UsageError, type BenchConfig, type CaseId } from "./config";
import { buildWorkers, LABELS, ROOT, startNginxContender, startWorkerContender, type Contender, type ContenderId } from "./contenders";
import { machineInfo, versions } from "./machine";
import { NGINX_INSTALL_HINT, findNginx } from "./nginx";
import { startOrigin, type BenchOrigin } from "./origin";
import { summary, writeResults, type Results } from "./report";

const HERD_DELAY_MS = 300;
/** A whole run never outlives this, whatever hangs. */
const WATCHDOG_MS = { full: 40 * 60_000, quick: 5 * 60_000, smoke: 110_000 } as const;
const RULES_FILE = path.join(ROOT, "bench", "rules.bench.json");

const log = (message: string) => process.stderr.write(`${message}\n`);

async function checkRules(origin: string): Promise<void> {
  const text = await readFile(RULES_FILE, "utf8");
  const { rules, problems } = parseRulesText(JSON.stringify({ ...(JSON.parse(text) as object), origin }));
  if (!rules) throw new Error(`${RULES_FILE} is invalid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`);
}

async function main(): Promise<number> {
  let config: BenchConfig;
  try {
    config = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n`);
    return 2;
  }
  const started = Date.now();
  const out = path.resolve(config.out ?? path.join(ROOT, "bench", "results", "latest.json"));
  const notes: string[] = [];
  const cleanup: (() => Promise<void>)[] = [];
  const runCleanup = async () => {
    while (cleanup.length) await cleanup.pop()!().catch(() => {});
  };
  const watchdog = setTimeout(() => {
    log(`bench: still running after ${WATCHDOG_MS[config.mode] / 1000} s; stopping`);
    void runCleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS[config.mode]);
  watchdog.unref();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void runCleanup().finally(() => process.exit(130)));
  }

  try {
    log(`bench: ${config.mode} run; cases ${config.cases.join(", ")}`);
    const tmp = await mkdtemp(path.join(os.tmpdir(), "edge-cache-bench-"));
    cleanup.push(() => rm(tmp, { recursive: true, force: true }));
    const origin: BenchOrigin = await startOrigin({ herdDelayMs: HERD_DELAY_MS });
    cleanup.push(() => origin.stop());
    await checkRules(origin.url);
    const entry = config.entry ? path.resolve(config.entry) : undefined;
    if (entry) notes.push(`edge-cache built from ${entry}`);
    const build = await buildWorkers(tmp, RULES_FILE, entry);

    const contenders: Partial<Record<ContenderId, Contender>> = {};
    const ttls = { sMaxAge: 3600, kvTtl: 3600 };
    for (const id of ["edge-cache", "cache-api-worker", "kv-worker"] as const) {
      const c = await startWorkerContender(id, build, origin.url, ttls);
      contenders[id] = c;
      cleanup.push(() => c.close());
    }
    if (!config.nginx) notes.push("nginx left out (--no-nginx)");
    else if (!findNginx()) notes.push(NGINX_INSTALL_HINT);
    else {
      const n = await startNginxContender(origin.url);
      if (n) {
        contenders.nginx = n;
        cleanup.push(() => n.close());
      }
    }
    /** A bench Worker (`bench/<file>`) over shared KV and Durable Objects, with the bench's rules. */
    const benchWorker = async (file: string, name: string) => {
      const script = await bundleWorker(path.join(ROOT, "bench", file), tmp);
      const rules = { ...(JSON.parse(build.rulesText) as object), origin: origin.url };
      const w = await startWorker({
        name,
        scriptPath: script,
        compatibilityDate: build.compatibilityDate,
        compatibilityFlags: build.compatibilityFlags,
        bindings: { RULES_JSON: JSON.stringify(rules), ADMIN_TOKEN: BENCH_TOKEN },
        kv: ["CACHE_KV"],
        durableObjects: { COORDINATOR: "Coordinator", SHIELD: "Shield" },
      });
      cleanup.push(() => w.dispose());
      return w.url;
    };
    // Four locations in one workerd (bench/locations-worker.ts).
    const locationsUrl = config.cases.some((c) => c === "locations-herd" || c === "purge-race" || c === "offload")
      ? await benchWorker("locations-worker.ts", "edge-cache-locations")
      : null;
    // Isolates made on demand, the isolates of a location sharing its Cache API (bench/isolates-worker.ts).
    const isolatesUrl = config.cases.some((c) => c === "isolates" || c === "cold-isolate" || c === "purge-log")
      ? await benchWorker("isolates-worker.ts", "edge-cache-isolates")
      : null;
    log(`bench: origin ${origin.url}; ${Object.values(contenders).map((c) => `${c.id} ${c.url}`).join(", ")}`);

    const ctx: BenchContext = { config, origin, contenders, build, log };
    const results: Results = {
      schema: 1,
      date: new Date().toISOString(),
      quick: config.mode !== "full",
      mode: config.mode,
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
      durationSeconds: 0,
      machine: machineInfo(),
      versions: versions(),
      contenders: Object.fromEntries(
        Object.values(contenders).map((c) => [c.id, { label: LABELS[c.id], runtime: c.id === "nginx" ? "nginx" : "workerd (Miniflare)" }]),
      ),
      notes,
      cases: {},
      failures: {},
      workerLogs: {},
    };
    const run = async <T>(id: CaseId, f: () => Promise<T>): Promise<T | undefined> => {
      if (!config.cases.includes(id)) return undefined;
      log(`bench: case ${id}`);
      const t0 = Date.now();
      try {
        return await f();
      } catch (e) {
        results.failures[id] = (e as Error).stack ?? String(e);
        log(`bench: case ${id} failed: ${(e as Error).message}`);
        return undefined;
      } finally {
        log(`bench: case ${id} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
    };

    // The stale case's entries must age past every contender's lifetime: warm them first.
    let staleSetup: StaleSetup | undefined;
    if (config.cases.includes("stale")) {
      staleSetup = await run("stale", () => prepareStale(ctx));
      if (staleSetup) cleanup.push(() => staleSetup!.close());
    }
    results.cases["edge-hit"] = await run("edge-hit", () => throughputCase(ctx, EDGE_HIT));
    results.cases["kv-hit"] = await run("kv-hit", () => throughputCase(ctx, KV_HIT));
    results.cases["kv-hit-logged"] = await run("kv-hit-logged", () => throughputCase(ctx, KV_HIT_LOGGED));
    results.cases.herd = await run("herd", () => herdCase(ctx, HERD_DELAY_MS));
    results.cases.offload = await run("offload", async () => ({
      ...(await offloadCase(ctx)),
      ...(await offloadCounts(ctx, locationsUrl!)),
    }));
    results.cases["locations-herd"] = await run("locations-herd", () => locationsHerdCase(ctx, locationsUrl!));
    results.cases["purge-race"] = await run("purge-race", () => purgeRaceCase(ctx, locationsUrl!));
    results.cases.isolates = await run("isolates", () => isolatesGrowthCase(ctx, isolatesUrl!, config.mode === "full" ? 20 : config.mode === "quick" ? 10 : 2));
    results.cases["cold-isolate"] = await run("cold-isolate", () => coldIsolateCase(ctx, isolatesUrl!));
    results.cases["purge-log"] = await run("purge-log", () => purgeLogCase(ctx, isolatesUrl!, config.mode === "smoke" ? 20_000 : 1_000_000));
    results.cases.memory = await run("memory", () => memoryCase(ctx));
    if (staleSetup) {
      results.cases.stale = await run("stale", () => staleCase(ctx, staleSetup!));
      for (const c of staleSetup.contenders) addLogs(results, c, "stale");
    }
    for (const c of Object.values(contenders)) addLogs(results, c, "");
    if (config.mode !== "full") notes.push(`${config.mode} run: fewer and shorter trials than the full run; ratios are noisier`);
    if (results.versions.dirty) notes.push("src/, config/ or wrangler.jsonc had uncommitted changes: the figures are of the working tree");
    const load = os.loadavg()[0] ?? 0;
    results.machine.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
    const busiest = Math.max(load, results.machine.loadAverageAtStart[0] ?? 0);
    if (busiest > results.machine.cores) {
      notes.push(`the machine was busy with other work (1-min load average up to ${busiest.toFixed(1)} on ${results.machine.cores} cores): absolute req/s and latencies are depressed and noisy; the paired ratios and CPU per request hold better`);
    }
    results.durationSeconds = Math.round((Date.now() - started) / 1000);
    await writeResults(out, results);
    const shown = path.relative(process.cwd(), out);
    process.stdout.write(summary(results, shown.startsWith("..") ? out : shown));
    return Object.keys(results.failures).length ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    await runCleanup();
  }
}

function addLogs(results: Results, c: Contender, tag: string): void {
  if (!c.worker) return;
  const key = c.id;
  const prev = results.workerLogs[key] ?? { stderrLines: 0, samples: [], logged5xx: [] };
  const tagged = (lines: string[]) => lines.map((l) => (tag ? `[${tag}] ${l}` : l));
  results.workerLogs[key] = {
    stderrLines: prev.stderrLines + c.worker.stderrCount,
    samples: [...prev.samples, ...tagged(c.worker.stderrLines)].slice(0, 10),
    logged5xx: [...prev.logged5xx, ...tagged(c.worker.stdout5xx)].slice(0, 10),
  };
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
