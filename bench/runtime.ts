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
  const counts = { stderr: 0, stdout: 0 };
  const mf = new Miniflare({
    name: spec.name,
    modules: true,
    scriptPath: spec.scriptPath,
    compatibilityDate: spec.compatibilityDate,
    compatibilityFlags: spec.compatibilityFlags ?? [],
    bindings: spec.bindings ?? {},
    kvNamespaces: spec.kv ?? [],
    cache: true,
    host: "127.0.0.1",
    port: 0,
    cf: false,
    defaultPersistRoot: persistRoot,
    log: new NoOpLog(),
    // The Workers' per-request log lines are part of their cost, but not of our output.
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (b: Buffer) => (counts.stdout += countLines(b)));
      let partial = "";
      stderr.on("data", (b: Buffer) => {
        const lines = (partial + b.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        counts.stderr += lines.length;
        for (const l of lines) if (stderrLines.length < 20 && l.trim()) stderrLines.push(l.slice(0, 500));
      });
    },
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const after = childPids("workerd");
  const fresh = [...after].filter((p) => !before.has(p));
  return {
    url,
    pid: fresh.length === 1 ? fresh[0]! : null,
    stderrLines,
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
