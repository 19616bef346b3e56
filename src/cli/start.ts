/**
 * `npm start`: the Worker under `wrangler dev` (local Cache API and KV, nothing needs an
 * account) in front of the demo origin or any origin, with a rules file validated first.
 *
 * The rules and the admin token reach the Worker as `--var RULES_JSON:<json>` and
 * `--var ADMIN_TOKEN:<token>`: wrangler splits each at the first colon only, so JSON
 * passes intact, and command-line vars win over .dev.vars and the config's vars, so the
 * file given here is what runs whatever else lies around. Wrangler is a child process
 * in our process group, so a terminal's Ctrl-C reaches it too; we still stop it
 * ourselves for signals sent to us alone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
// Node 20 has no URLPattern, which route matching (and so validation) needs.
import "urlpattern-polyfill";
import { ADMIN_PREFIX } from "../admin/prefix";
import { startDemoOrigin, type DemoOrigin } from "../demo/origin";
import { parseRulesText } from "../rules/parse";
import type { CompiledRules, Problem } from "../rules/types";
import { parseStartArgs, USAGE, type StartOptions } from "./args";
import { CliUsageError } from "./command";
import { formatProblem } from "./rules-check";
import { claimDir, releaseDir } from "./local-state";
import { banner, display, plural } from "./start-banner";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** One state directory per port: two runs in one checkout never serve each other's rules or empty each other's state. */
const stateDir = (options: StartOptions) => (options.state ? path.resolve(options.state) : path.join(ROOT, ".wrangler", "state", `port-${options.port}`));

/** Takes `dir` for this run (cli/local-state.ts), or stops with what to do. */
async function claimState(dir: string, port: number): Promise<void> {
  const holder = await claimDir(dir, port);
  if (holder) {
    throw new Fatal(`${display(dir)} is in use by another npm start (pid ${holder.pid}, port ${holder.port}); stop it, or give this run its own state with --state DIR (or another --port)`);
  }
}
const HOST = "127.0.0.1";
// Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN); say so instead of E2BIG.
const MAX_VAR_BYTES = 128 * 1024 - 1;
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5_000;

class Fatal extends Error {}

/** Set once wrangler runs: from then on every way out goes through it. */
let stopAll: ((code: number) => Promise<void>) | undefined;

async function main(): Promise<void> {
  let options: StartOptions;
  try {
    options = parseStartArgs(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof CliUsageError)) throw e;
    process.stderr.write(`edge-cache: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }

  const rulesPath = options.rules ?? path.join(ROOT, "config", options.origin ? "routes.json" : "demo.routes.json");
  const rules = await loadRules(rulesPath);
  const fixedOrigin = options.origin ?? (options.rules ? rules.origin ?? undefined : undefined);
  if (fixedOrigin) checkRules(withOrigin(rules, fixedOrigin), `${display(rulesPath)} with origin ${fixedOrigin}`);
  await assertPortFree(options.port);
  const state = stateDir(options);
  await claimState(state, options.port);
  if (options.fresh) await rm(state, { recursive: true, force: true });
  await claimState(state, options.port);

  const demo = fixedOrigin ? null : await startDemoOrigin();
  const origin = fixedOrigin ?? demo!.url;
  const rulesJson = withOrigin(rules, origin);
  const wrangler = startWrangler(options, rulesJson, state, await freePort());
  const stop = (stopAll = stopper(wrangler, demo));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(0));
  // Last resort if we crash: never leave a wrangler (and its workerd) behind.
  process.on("exit", () => {
    if (wrangler.exitCode === null) wrangler.kill("SIGKILL");
    releaseDir(state);
  });

  const workerUrl = `http://${HOST}:${options.port}`;
  await waitReady(wrangler, options.port);
  process.stdout.write(banner({ workerUrl, origin, demo: demo !== null, rulesPath, rules, options, state }));
}

async function loadRules(file: string): Promise<CompiledRules> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new Fatal(`cannot read the rules file ${file}: ${(e as Error).message}`);
  }
  return checkRules(text, display(file));
}

/** Validates rules text; prints every problem; refuses (exit 1) when any is an error. */
function checkRules(text: string, what: string): CompiledRules {
  const { rules, problems } = parseRulesText(text);
  // The same lines as `edge-cache rules check`, so one file reads the same everywhere.
  if (problems.length > 0) process.stderr.write(`${what}:\n${problems.map((p) => `  ${formatProblem(p)}\n`).join("")}`);
  if (!rules) throw new Fatal(`the rules file is invalid (${count(problems, "error")}); nothing was started`);
  return rules;
}

function count(problems: Problem[], severity: Problem["severity"]): string {
  return plural(problems.filter((p) => p.severity === severity).length, severity);
}


function withOrigin(rules: CompiledRules, origin: string): string {
  return JSON.stringify({ ...rules.source, origin });
}

async function assertPortFree(port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new Fatal(
          e.code === "EADDRINUSE"
            ? `port ${port} on ${HOST} is already in use (another npm start?); choose another with --port N`
            : `cannot listen on ${HOST}:${port} (${e.code ?? e.message}); choose another port with --port N`,
        ),
      ),
    );
    server.listen(port, HOST, () => server.close(() => resolve()));
  });
}

/**
 * A port nothing listens on now: wrangler's devtools inspector otherwise takes 9229, and a
 * second run started at the same moment fails on it ("Address already in use").
 */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function startWrangler(options: StartOptions, rulesJson: string, state: string, inspectorPort: number): ChildProcess {
  // A new seed per start: the coordinator records this file as the newest version once,
  // so uploads made to this run take effect and an earlier run's do not (src/rules/versions.ts).
  const vars = [`RULES_JSON:${rulesJson}`, `RULES_SEED:start-${Date.now().toString(36)}-${process.pid}`];
  if (options.adminToken) vars.push(`ADMIN_TOKEN:${options.adminToken}`);
  // A run of its own coordinator (statistics, purges) over the same local state, e.g. for a test.
  if (process.env.SITE_NAME) vars.push(`SITE_NAME:${process.env.SITE_NAME}`);
  for (const v of vars) {
    if (Buffer.byteLength(v) > MAX_VAR_BYTES) {
      throw new Fatal(`${v.slice(0, v.indexOf(":"))} is too large to pass to wrangler dev (over ${MAX_VAR_BYTES} bytes)`);
    }
  }
  // wrangler's bin is a wrapper that spawns this same CLI with these flags but neither
  // forwards signals nor reports a signal death; running the CLI ourselves gets both.
  const cli = createRequire(import.meta.url).resolve("wrangler");
  const args = [
    "--no-warnings", "--experimental-vm-modules", cli, "dev", "--config", path.join(ROOT, "wrangler.jsonc"), "--local",
    "--ip", HOST, "--port", String(options.port), "--persist-to", state,
    "--show-interactive-dev-session=false", "--inspector-port", String(inspectorPort),
    ...vars.flatMap((v) => ["--var", v]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  child.stdout!.pipe(process.stdout);
  child.stderr!.pipe(process.stderr);
  return child;
}

/**
 * Resolves once wrangler says it is ready, the Worker answers, and wrangler has logged
 * that answer (so the banner comes last); rejects on a build failure or a timeout.
 */
function waitReady(wrangler: ChildProcess, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Fatal(`wrangler dev did not become ready within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    wrangler.once("exit", () => clearTimeout(timer));
    let phase: "starting" | "probing" | "done" = "starting";
    let probeLogged: () => void = () => {};
    const onLine = (line: string) => {
      // eslint-disable-next-line no-control-regex
      const plain = line.replace(/\x1b\[[0-9;]*m/g, "");
      if (phase === "probing" && plain.includes(`GET ${ADMIN_PREFIX} `)) probeLogged();
      if (phase !== "starting") return;
      // Wrangler would sit waiting for a file change; a run command had better stop and say so.
      if (/Build failed/.test(plain)) reject(new Fatal("the Worker failed to build (see above); nothing is running"));
      if (!/Ready on http/.test(plain)) return;
      phase = "probing";
      clearTimeout(timer);
      const logged = new Promise<void>((r) => (probeLogged = r));
      workerAnswers(port)
        .then(() => Promise.race([logged, new Promise((r) => setTimeout(r, 500))]))
        .then(() => {
          phase = "done";
          resolve();
        }, reject);
    };
    // Not closed afterwards: closing a readline pauses its input, which would stall
    // wrangler's output that we also pipe to the terminal.
    createInterface({ input: wrangler.stdout! }).on("line", onLine);
    createInterface({ input: wrangler.stderr! }).on("line", onLine);
  });
}

/**
 * Asks the Worker itself (wrangler's proxy may be listening before it): an admin path,
 * because those never reach the origin, so starting up sends nothing to a real site
 * and leaves the cache untouched. Any HTTP answer will do.
 */
async function workerAnswers(port: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`http://${HOST}:${port}${ADMIN_PREFIX}`, { signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      return;
    } catch (e) {
      if (attempt >= 20) throw new Fatal(`the Worker does not answer on port ${port}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * One way out for every cause: a signal to us or a failure of ours (stop wrangler,
 * killing it if it lingers, then exit with `code`), or wrangler exiting by itself (exit
 * with its code, 128 + signal number if a signal ended it). The demo origin closes too.
 */
function stopper(wrangler: ChildProcess, demo: DemoOrigin | null): (code: number) => Promise<void> {
  let stopping = false;
  const exited = new Promise<number>((resolve) =>
    wrangler.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0))),
  );
  void exited.then(async (code) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`edge-cache: wrangler dev exited (code ${code}); stopping\n`);
    await demo?.close();
    process.exit(code);
  });
  return async (code) => {
    if (stopping) return;
    stopping = true;
    wrangler.kill("SIGTERM");
    const killer = setTimeout(() => wrangler.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
    await demo?.close();
    process.exit(code);
  };
}

main().catch((e: unknown) => {
  process.stderr.write(`edge-cache: ${e instanceof Fatal ? e.message : (e as Error).stack ?? String(e)}\n`);
  if (stopAll) void stopAll(1);
  else process.exit(1);
});
