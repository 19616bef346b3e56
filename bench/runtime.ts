/**
 * The local runtime every Worker contender runs in: workerd through Miniflare (the
 * same runtime the tests and `wrangler dev` use), one workerd process per Worker so
 * that each has its own Cache API and KV state and its own memory to measure.
 *
 * Storage goes to a temporary directory on disk (Miniflare's default), so a stored
 * 200 MB body lands in files, not in the process we measure.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { Miniflare, NoOpLog } from "miniflare";

export interface WorkerProcess {
  url: string;
  /** The workerd process's id (null when it could not be found). */
  pid: number | null;
  /** Lines the Worker wrote to stderr (console.error), first 20, and their count. */
  stderrLines: string[];
  stderrCount: number;
  stdoutCount: number;
  /** Log lines on stdout that report a 5xx answer (edge-cache logs one JSON line per request), first 20. */
  stdout5xx: string[];
  /** The DevTools endpoint of workerd, when started with `inspect`. */
  inspectorUrl: string | null;
  dispose(): Promise<void>;
}

export interface WorkerSpec {
  name: string;
  /** An ES module Worker, already bundled. */
  scriptPath: string;
  compatibilityDate: string;
  compatibilityFlags?: string[];
  bindings?: Record<string, string>;
  kv?: string[];
  /** Durable Object bindings: binding name to the class the script exports (SQLite-backed). */
  durableObjects?: Record<string, string>;
  /** Open workerd's inspector (for CPU profiles, bench/profile.ts). */
  inspect?: boolean;
}

/** Children of this process with the given command name. */
function childPids(name: string): Set<number> {
  const out = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === process.pid && comm === name) out.add(Number(e));
    } catch {
      // The process went away while we looked.
    }
  }
  return out;
}

// Miniflare starts workerd processes one at a time here, so telling which is new is reliable.
let starting: Promise<unknown> = Promise.resolve();

export async function startWorker(spec: WorkerSpec): Promise<WorkerProcess> {
  const run = starting.then(() => launch(spec));
  starting = run.catch(() => {});
  return run;
}

async function launch(spec: WorkerSpec): Promise<WorkerProcess> {
  const persistRoot = await mkdtemp(path.join(os.tmpdir(), `edge-cache-bench-${spec.name}-`));
  const before = childPids("workerd");
  const stderrLines: string[] = [];
  const stdout5xx: string[] = [];
  const counts = { stderr: 0, stdout: 0 };
  const mf = new Miniflare({
    name: spec.name,
    modules: true,
    scriptPath: spec.scriptPath,
    modulesRoot: path.dirname(spec.scriptPath),
    compatibilityDate: spec.compatibilityDate,
    compatibilityFlags: spec.compatibilityFlags ?? [],
    bindings: spec.bindings ?? {},
    kvNamespaces: spec.kv ?? [],
    durableObjects: Object.fromEntries(
      Object.entries(spec.durableObjects ?? {}).map(([binding, className]) => [binding, { className, useSQLite: true }]),
    ),
    cache: true,
    host: "127.0.0.1",
    port: 0,
    cf: false,
    ...(spec.inspect ? { inspectorPort: 0 } : {}),
    defaultPersistRoot: persistRoot,
    log: new NoOpLog(),
    // The Workers' per-request log lines are part of their cost, but not of our output.
    handleRuntimeStdio(stdout, stderr) {
      let partialOut = "";
      stdout.on("data", (b: Buffer) => {
        counts.stdout += countLines(b);
        if (stdout5xx.length >= 20) return;
        const lines = (partialOut + b.toString("utf8")).split("\n");
        partialOut = lines.pop() ?? "";
        for (const l of lines) if (stdout5xx.length < 20 && /"status":5\d\d/.test(l)) stdout5xx.push(l.slice(0, 1000));
      });
      let partial = "";
      stderr.on("data", (b: Buffer) => {
        const lines = (partial + b.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        counts.stderr += lines.length;
        for (const l of lines) if (stderrLines.length < 20 && l.trim()) stderrLines.push(l.slice(0, 500));
      });
    },
  });
  let url: string;
  try {
    url = (await mf.ready).toString().replace(/\/$/, "");
  } catch (e) {
    await mf.dispose().catch(() => {});
    await rm(persistRoot, { recursive: true, force: true }).catch(() => {});
    throw new Error(`workerd did not start ${spec.name}: ${(e as Error).message}\n${stderrLines.join("\n")}`);
  }
  const inspectorUrl = spec.inspect ? (await mf.getInspectorURL()).toString() : null;
  const after = childPids("workerd");
  const fresh = [...after].filter((p) => !before.has(p));
  return {
    url,
    pid: fresh.length === 1 ? fresh[0]! : null,
    stderrLines,
    stdout5xx,
    inspectorUrl,
    get stderrCount() {
      return counts.stderr;
    },
    get stdoutCount() {
      return counts.stdout;
    },
    async dispose() {
      await mf.dispose().catch(() => {});
      await rm(persistRoot, { recursive: true, force: true }).catch(() => {});
    },
  };
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if (b[i] === 10) n++;
  return n;
}

/** Bundles a Worker entry the way wrangler does (esbuild, ES module, workerd conditions). */
export async function bundleWorker(entry: string, outDir: string): Promise<string> {
  const outfile = path.join(outDir, `${path.basename(entry).replace(/\.[cm]?[jt]s$/, "")}.mjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    // The runtime's own modules (Durable Object base classes) are workerd's, not ours to bundle.
    external: ["cloudflare:*"],
    logLevel: "silent",
    sourcemap: false,
    minify: false,
  });
  return outfile;
}

/** Memory of a process from /proc: current RSS and its high-water mark, in MiB. */
export function memoryOf(pid: number): { rssMB: number; hwmMB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMB: kb("VmRSS") / 1024, hwmMB: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/** Resets the RSS high-water mark of a process (Linux `clear_refs` 5); false when not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on

/** CPU time (user + system, ms) used so far by a process and its direct children (nginx's workers). */
export function cpuMsOf(pid: number): number | null {
  const read = (p: number) => {
    const stat = readFileSync(`/proc/${p}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the command: state(0) ppid(1) ... utime(11) stime(12)
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  };
  try {
    let ticks = read(pid).ticks;
    for (const e of readdirSync("/proc")) {
      if (!/^\d+$/.test(e) || Number(e) === pid) continue;
      try {
        const s = read(Number(e));
        if (s.ppid === pid) ticks += s.ticks;
      } catch {
        // gone
      }
    }
    return (ticks * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
