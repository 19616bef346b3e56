/**
 * Running wrangler for a command (`setup`): the project's own wrangler, or the program
 * named by EDGE_CACHE_WRANGLER (the one seam tests point at a stub, so no test needs
 * Cloudflare's API). Output is captured, never shown unless the call fails.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

export const WRANGLER_ENV = "EDGE_CACHE_WRANGLER";

export interface WranglerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `wrangler ...args` with `input` on stdin (nothing when absent); never throws for a failing wrangler. */
export function runWrangler(args: readonly string[], input?: string, env: NodeJS.ProcessEnv = process.env): Promise<WranglerResult> {
  const stub = env[WRANGLER_ENV];
  // wrangler's bin is a wrapper that spawns its CLI again; run the CLI itself.
  const [command, prefix] = stub ? [stub, []] : [process.execPath, [createRequire(import.meta.url).resolve("wrangler")]];
  return new Promise((done) => {
    const child = spawn(command, [...prefix, ...args], {
      env: { WRANGLER_SEND_METRICS: "false", ...env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d));
    child.stderr!.on("data", (d: Buffer) => (stderr += d));
    child.on("error", (e) => done({ code: 127, stdout, stderr: `cannot run ${command}: ${e.message}` }));
    child.on("close", (code) => done({ code: code ?? 1, stdout, stderr }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** What wrangler said went wrong, in a line or a few: its [ERROR] lines, else the last lines it wrote. */
export function wranglerProblem(r: WranglerResult): string {
  // eslint-disable-next-line no-control-regex
  const lines = `${r.stderr}\n${r.stdout}`.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => l.includes("[ERROR]")).map((l) => l.replace(/^✘\s*/, "").replace("[ERROR] ", ""));
  const picked = errors.length > 0 ? errors : lines.filter((l) => !l.startsWith("🪵")).slice(-3);
  return picked.join(" ") || `wrangler exited with code ${r.code} and said nothing`;
}
