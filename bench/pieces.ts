/**
 * What each piece of a hit costs in workerd, one piece at a time:
 *
 *   npx tsx bench/pieces.ts [--n 20000] [--rounds 6]
 *
 * Each piece runs `n` times inside one request of bench/pieces-worker.ts, and
 * workerd's CPU time over those requests divided by the calls is its cost (µs per
 * call, the median of `rounds` measurements). The log line is measured apart, as
 * whole requests under load: one that writes a line against one that does not,
 * alternating, because what a line costs is mostly per request, not per call.
 * The throughput cases say how fast a hit is; this says where its time goes. A loop
 * runs warm, on one request: a fresh request's first reads cost more (the request size
 * check walks a new header list), so the figures are a floor, good for comparing.
 * workerd's CPU is read in clock ticks (10 ms): with 20,000 calls a round, 0.5 µs.
 */
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
// Node 20 has no URLPattern; the rules are checked when the Worker is bundled.
import "urlpattern-polyfill";
import { ROOT, wranglerConfig } from "./contenders";
import { closedLoop } from "./load";
import { bundleWorker, cpuMsOf, startWorker } from "./runtime";
import { median } from "./stats";

const HEADERS = { "user-agent": "bench-pieces", accept: "*/*", "accept-encoding": "gzip, br" };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: "string", default: "20000" }, rounds: { type: "string", default: "6" } } });
  const n = Number(values.n);
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(n) || n < 1 || !Number.isSafeInteger(rounds) || rounds < 1) throw new Error("--n and --rounds take whole numbers above 0");
  const tmp = await mkdtemp(path.join(os.tmpdir(), "edge-cache-pieces-"));
  const script = await bundleWorker(path.join(ROOT, "bench", "pieces-worker.ts"), tmp);
  const worker = await startWorker({ name: "pieces", scriptPath: script, ...(await wranglerConfig()) });
  const pid = worker.pid;
  try {
    if (pid === null) throw new Error("cannot tell which process is workerd");
    const get = async (query: string) => {
      const res = await fetch(`${worker.url}/?${query}`, { headers: HEADERS });
      const text = await res.text();
      if (!res.ok) throw new Error(`${query}: ${res.status} ${text}`);
      return text;
    };
    const ops = JSON.parse(await get("op=list")) as string[];
    console.log(`µs per call (median of ${rounds} rounds of ${n} calls)`);
    for (const op of ops) {
      const q = `op=${encodeURIComponent(op)}&n=${n}`;
      await get(q);
      const each: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const before = cpuMsOf(pid)!;
        await get(q);
        each.push(((cpuMsOf(pid)! - before) * 1000) / n);
      }
      console.log(`${median(each).toFixed(1).padStart(8)}  ${op}`);
    }

    const perRequest = new Map<string, number[]>([["log", []], ["quiet", []]]);
    for (let r = 0; r < rounds; r++) {
      for (const [op, list] of perRequest) {
        const before = cpuMsOf(pid)!;
        const load = await closedLoop({ base: worker.url, paths: [`/?op=${op}`], connections: 8, durationMs: 2000, maxRequests: 100_000, isHit: () => false });
        list.push(((cpuMsOf(pid)! - before) * 1000) / load.requests);
      }
    }
    const logged = median(perRequest.get("log")!);
    const quiet = median(perRequest.get("quiet")!);
    console.log(`\nµs of workerd CPU per request, under load (median of ${rounds} alternating rounds of 2 s)`);
    console.log(`${logged.toFixed(0).padStart(8)}  a request that writes one log line`);
    console.log(`${quiet.toFixed(0).padStart(8)}  a request that writes none`);
    console.log(`${(logged - quiet).toFixed(0).padStart(8)}  the line`);
  } finally {
    await worker.dispose();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`pieces: ${(e as Error).message}`);
    process.exit(1);
  },
);
