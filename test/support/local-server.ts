/**
 * `npm start` as a user runs it, for end-to-end tests in Node: started in its own
 * process group so a test can stop npm, tsx, wrangler and workerd at once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import net, { type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Started {
  child: ChildProcess;
  /** The run's own state directory (`--state`), removed by `stop`; null when the run uses the default one. */
  state: string | null;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * `npm start -- ARGS`. Each run gets a state directory of its own in the temporary
 * folder (removed by `stop`), so tests never share or leave local state; `defaultState`
 * runs it on the checkout's default one (.wrangler/state/port-N).
 */
export function npmStart(args: string[], env: NodeJS.ProcessEnv = {}, options: { defaultState?: boolean } = {}): Started {
  let out = "";
  const state = options.defaultState || args.includes("--state") ? null : mkdtempSync(path.join(os.tmpdir(), "edge-cache-state-"));
  const child = spawn("npm", ["start", "--", ...args, ...(state ? ["--state", state] : [])], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, state, output: () => out, exited };
}

/** Waits for the runner's banner on its output (an end-to-end test waits on a real process). */
export async function untilRunning(s: Started, timeoutMs = 90_000): Promise<void> {
  const ready = /edge-cache is running at/;
  if (ready.test(s.output())) return;
  if (s.child.exitCode !== null) throw new Error(`npm start exited ${s.child.exitCode}:\n${s.output()}`);
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      s.child.stdout!.off("data", check);
      s.child.stderr!.off("data", check);
      s.child.off("exit", exit);
      if (err) reject(err);
      else resolve();
    };
    const check = () => ready.test(s.output()) && done();
    const exit = (code: number | null) => done(new Error(`npm start exited ${code}:\n${s.output()}`));
    const timer = setTimeout(() => done(new Error(`npm start not ready in time:\n${s.output()}`)), timeoutMs);
    // After the output handlers of `start`, so the banner is already in s.output().
    s.child.stdout!.on("data", check);
    s.child.stderr!.on("data", check);
    s.child.once("exit", exit);
  });
}

export async function stop(s: Started | undefined): Promise<void> {
  if (!s) return;
  if (s.child.exitCode === null && s.child.pid !== undefined) {
    const group = -s.child.pid;
    process.kill(group, "SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(group, "SIGKILL");
      } catch {
        // already gone
      }
    }, 10_000);
    await s.exited;
    clearTimeout(timer);
  }
  if (s.state) await rm(s.state, { recursive: true, force: true });
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Resident memory of every workerd process in the group started by `s`, in MB (Linux /proc). */
export function workerdRssMb(s: Started): number {
  const pgid = s.child.pid;
  let total = 0;
  for (const pid of readdirNumeric("/proc")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(fields[2]) !== pgid || !comm.startsWith("workerd")) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) total += Number(rss[1]) / 1024;
    } catch {
      // the process ended between listing and reading
    }
  }
  return total;
}

function readdirNumeric(dir: string): number[] {
  return readdirSync(dir).filter((n) => /^\d+$/.test(n)).map(Number);
}

export interface Local {
  started: Started;
  /** Where it serves: http://127.0.0.1:<port>. */
  base: string;
  /** Stops it and removes its rules file. */
  close(): Promise<void>;
}

/** `npm start -- --origin ORIGIN --rules FILE` on a free port, with `rules` written to a temporary file; ready when it returns. */
export async function startWithRules(origin: string, rules: unknown, options: { args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Local> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "edge-cache-e2e-"));
  const file = path.join(dir, "rules.json");
  await writeFile(file, JSON.stringify(rules));
  const port = await freePort();
  const started = npmStart(["--origin", origin, "--rules", file, "--port", String(port), ...(options.args ?? [])], options.env);
  const close = async () => {
    await stop(started);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await untilRunning(started);
  } catch (err) {
    await close();
    throw err;
  }
  return { started, base: `http://127.0.0.1:${port}`, close };
}
