/**
 * How far a KV hit is from the least a correct one can cost, in workerd:
 *
 *   npx tsx bench/floor.ts [--rounds 30] [--seconds 1]
 *
 * bench/floor-worker.ts answers the same warm KV hits three ways in one workerd: as
 * the seed KV Worker does (one header), as the floor does (the stored entry with its
 * metadata, its own headers, Age and Cache-Status: what any correct cache must send)
 * and as edge-cache does. Each round loads each way in turn for `seconds`, in an
 * order that alternates, and reads workerd's CPU per request and the req/s.
 *
 * One process serves all three, so what a process happens to cost (where the kernel
 * placed it, what its JIT did) is common to them. Between two processes of the same
 * build that alone moved req/s by up to 11 % on the 2-core machine that the table in
 * docs/reference/benchmarks.md comes from, and the throughput cases run each contender
 * in its own process.
 */
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
// Node 20 has no URLPattern; the rules are checked when the Worker is bundled.
import "urlpattern-polyfill";
import { ROOT, wranglerConfig } from "./contenders";
import { closedLoop, fetchOnce } from "./load";
import { startOrigin } from "./origin";
import { bundleWorker, cpuMsOf, startWorker } from "./runtime";
import { median, sleep } from "./stats";

const WAYS = ["seed", "floor", "edge-cache"] as const;
type Way = (typeof WAYS)[number];
const PREFIX: Record<Way, string> = { seed: "", floor: "/floor", "edge-cache": "" };
const URLS = 64;
const CONNECTIONS = 16;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "30" }, seconds: { type: "string", default: "1" } } });
  const rounds = Number(values.rounds);
  const ms = Number(values.seconds) * 1000;
  if (!Number.isSafeInteger(rounds) || rounds < 1 || !(ms > 0)) throw new Error("--rounds takes a whole number above 0, --seconds a number above 0");
  const origin = await startOrigin();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "edge-cache-floor-"));
  try {
    const script = await bundleWorker(path.join(ROOT, "bench", "floor-worker.ts"), tmp);
    const rules = { ...(JSON.parse(await readFile(path.join(ROOT, "bench", "rules.bench.json"), "utf8")) as object), origin: origin.url };
    const worker = await startWorker({
      name: "floor",
      scriptPath: script,
      ...(await wranglerConfig()),
      bindings: { RULES_JSON: JSON.stringify(rules), ORIGIN: origin.url },
      kv: ["CACHE_KV"],
      durableObjects: { COORDINATOR: "Coordinator", SHIELD: "Shield" },
    });
    try {
      const pid = worker.pid;
      if (pid === null) throw new Error("cannot tell which process is workerd");
      // The seed by its host (bench/floor-worker.ts): its URLs stay the origin's.
      const base = (way: Way) => (way === "seed" ? worker.url.replace("127.0.0.1", "localhost") : worker.url);
      const paths = (way: Way) => Array.from({ length: URLS }, (_, i) => `${PREFIX[way]}/kv/${i}`);
      // Fill: edge-cache first (the floor reads its entries), then the seed's own keys.
      for (const way of ["edge-cache", "seed"] as const) for (const p of paths(way)) await fetchOnce(base(way), p, 30_000);
      await sleep(500);
      for (const way of WAYS) {
        const res = await fetchOnce(base(way), paths(way)[0]!, 30_000);
        if (res.status !== 200) throw new Error(`${way}: HTTP ${res.status} on the check request`);
        await closedLoop({ base: base(way), paths: paths(way), connections: CONNECTIONS, durationMs: 1000, maxRequests: 1e6 });
      }
      const cpu = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
      const rps = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
      for (let r = 0; r < rounds; r++) {
        for (const way of r % 2 ? [...WAYS].reverse() : WAYS) {
          const before = cpuMsOf(pid)!;
          const load = await closedLoop({ base: base(way), paths: paths(way), connections: CONNECTIONS, durationMs: ms, maxRequests: 1e6 });
          if (load.errors) throw new Error(`${way}: ${load.errors} errors, e.g. ${load.errorSamples[0]}`);
          cpu.get(way)!.push(((cpuMsOf(pid)! - before) * 1000) / load.requests);
          rps.get(way)!.push(load.rps);
        }
      }
      // Per round, against the seed of the same round: the machine's speed cancels.
      const vsSeed = (list: Map<Way, number[]>, way: Way, f: (x: number, seed: number) => number) => median(list.get(way)!.map((x, i) => f(x, list.get("seed")![i]!)));
      console.log(`KV hits, ${rounds} rounds of ${ms / 1000} s per way, ${CONNECTIONS} connections, one workerd`);
      console.log("way          µs CPU/req   µs over seed   req/s ÷ seed");
      for (const way of WAYS) {
        console.log(
          `${way.padEnd(12)} ${median(cpu.get(way)!).toFixed(0).padStart(10)} ${vsSeed(cpu, way, (x, s) => x - s).toFixed(0).padStart(14)} ${vsSeed(rps, way, (x, s) => x / s).toFixed(3).padStart(14)}`,
        );
      }
      console.log(`\nedge-cache over the floor: ${median(cpu.get("edge-cache")!.map((x, i) => x - cpu.get("floor")![i]!)).toFixed(0)} µs CPU per request, req/s ÷ floor ${median(rps.get("edge-cache")!.map((x, i) => x / rps.get("floor")![i]!)).toFixed(3)}`);
    } finally {
      await worker.dispose();
    }
  } finally {
    await origin.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`floor: ${(e as Error).message}`);
    process.exit(1);
  },
);
