/**
 * CPU profile of one contender under one case's load, through workerd's inspector:
 *
 *   npx tsx bench/profile.ts kv-hit [--contender edge-cache] [--seconds 5] [--out FILE] [--entry FILE]
 *
 * Cases: edge-hit, kv-hit (closed loop on warm URLs), miss (every request a new URL),
 * big (one 200 MiB miss, then a hit). Writes a .cpuprofile (open it in Chrome DevTools)
 * and prints the functions with the most self time. The profile covers the Worker's
 * own isolate only: the local Cache API and KV simulators run in other isolates.
 */
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { WebSocket } from "undici";
import { buildWorkers, ROOT, startWorkerContender, type ContenderId } from "./contenders";
import { closedLoop, fetchOnce, replay } from "./load";
import { startOrigin } from "./origin";
import { sleep } from "./stats";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

class Inspector {
  private next = 1;
  private pending = new Map<number, (r: unknown) => void>();
  private constructor(private ws: WebSocket) {
    ws.addEventListener("message", (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: unknown };
      if (msg.id !== undefined) this.pending.get(msg.id)?.(msg.error ? Promise.reject(new Error(JSON.stringify(msg.error))) : msg.result);
    });
  }
  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)));
    });
    return new Inspector(ws);
  }
  send<T>(method: string, params: object = {}): Promise<T> {
    const id = this.next++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve) => this.pending.set(id, resolve as (r: unknown) => void));
  }
  close() {
    this.ws.close();
  }
}

/** Self time per function (ms), most first. */
export function selfTimes(p: Profile): { name: string; ms: number; share: number }[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i] ?? 0) / 1000);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const agg = new Map<string, number>();
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    const file = f.url ? path.basename(f.url) : "";
    const name = `${f.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}` : ""}`;
    agg.set(name, (agg.get(name) ?? 0) + ms);
  }
  return [...agg]
    .map(([name, ms]) => ({ name, ms, share: ms / total }))
    .sort((a, b) => b.ms - a.ms);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      contender: { type: "string", default: "edge-cache" },
      seconds: { type: "string", default: "5" },
      out: { type: "string" },
      entry: { type: "string" },
      top: { type: "string", default: "30" },
    },
  });
  const kind = positionals[0] ?? "kv-hit";
  const id = values.contender as Exclude<ContenderId, "nginx">;
  const seconds = Number(values.seconds);
  const origin = await startOrigin();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "edge-cache-profile-"));
  const build = await buildWorkers(tmp, path.join(ROOT, "bench", "rules.bench.json"), values.entry && path.resolve(values.entry));
  const c = await startWorkerContender(id, build, origin.url, { sMaxAge: 3600, kvTtl: 3600 }, "-profile", true);
  try {
    const base = c.worker!.inspectorUrl!.replace(/^ws/, "http").replace(/\/$/, "");
    const targets = (await (await fetch(`${base}/json/list`)).json()) as { webSocketDebuggerUrl: string; id: string; title?: string }[];
    const target = targets.find((t) => t.id.includes(`core:user:${id}`)) ?? targets[0];
    if (!target) throw new Error(`no inspector target in ${JSON.stringify(targets)}`);
    const prefix = kind === "edge-hit" ? "/hit" : kind === "kv-hit" ? "/kv" : "/o";
    const paths = Array.from({ length: 64 }, (_, i) => `${prefix}/${i}`);
    if (kind === "edge-hit" || kind === "kv-hit") {
      for (const p of paths) await fetchOnce(c.url, p);
      await sleep(500);
      await closedLoop({ base: c.url, paths, connections: 16, durationMs: 1000, maxRequests: 1e6 });
    }
    const inspector = await Inspector.connect(target.webSocketDebuggerUrl);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 100 });
    await inspector.send("Profiler.start");
    const t0 = performance.now();
    let summary: string;
    if (kind === "big") {
      const big = `/big/${200 * 2 ** 20}/profile`;
      const miss = await fetchOnce(c.url, big, 180_000);
      await sleep(1500);
      const hit = await fetchOnce(c.url, big, 180_000);
      summary = `miss ${(miss.ms / 1000).toFixed(2)} s, second ${(hit.ms / 1000).toFixed(2)} s [${String(hit.headers["cache-status"] ?? hit.headers["cf-cache-status"] ?? "-")}]`;
    } else if (kind === "miss") {
      const r = await replay({ base: c.url, paths: Array.from({ length: 2000 }, (_, i) => `/o/miss/${i}`), concurrency: 16, deadlineMs: seconds * 1000 });
      summary = `${r.requests} misses, ${r.rps.toFixed(0)} req/s, ${r.errors} errors`;
    } else {
      const r = await closedLoop({ base: c.url, paths, connections: 16, durationMs: seconds * 1000, maxRequests: 1e7, isHit: c.isHit });
      summary = `${r.requests} requests, ${r.rps.toFixed(0)} req/s, p50 ${r.p50ms.toFixed(2)} ms, ${r.hits} hits, ${r.errors} errors`;
    }
    const wall = performance.now() - t0;
    const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
    inspector.close();
    const out = values.out ?? path.join(os.tmpdir(), `edge-cache-${id}-${kind}.cpuprofile`);
    await writeFile(out, JSON.stringify(profile));
    const rows = selfTimes(profile);
    const busy = rows.filter((r) => !/^\((idle|program|garbage collector)\)/.test(r.name)).reduce((a, r) => a + r.ms, 0);
    const gc = rows.find((r) => r.name.startsWith("(garbage collector)"))?.ms ?? 0;
    console.log(`${id} ${kind}: ${summary}`);
    console.log(`wall ${wall.toFixed(0)} ms; JS busy ${busy.toFixed(0)} ms (${((busy / wall) * 100).toFixed(0)} % of wall), GC ${gc.toFixed(0)} ms; profile: ${out}`);
    console.log("self ms   share  function");
    for (const r of rows.slice(0, Number(values.top))) console.log(`${r.ms.toFixed(1).padStart(7)}  ${(r.share * 100).toFixed(1).padStart(5)} %  ${r.name}`);
  } finally {
    await c.close();
    await origin.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error((e as Error).stack ?? e);
    process.exit(1);
  },
);
