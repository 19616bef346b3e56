/**
 * The benchmark is not a test (CI does not run it), but it must keep working: this
 * runs `npm run bench -- --smoke` (every case, tiny sizes, about 30 s) into a temporary
 * file and checks that every headline figure is there. It checks shapes, not goals:
 * figures from a tiny run on a shared machine prove nothing about speed.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const COMMITTED = path.join(ROOT, "bench", "results", "latest.json");

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "bench", "--", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`bench --smoke did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const mtime = async (file: string) => (await stat(file).catch(() => null))?.mtimeMs ?? null;

describe("npm run bench -- --smoke", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs every case and writes its JSON where --out says", { timeout: 120_000 }, async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "bench-smoke-"));
    const out = path.join(dir, "latest.json");
    const committedBefore = await mtime(COMMITTED);

    const r = await run(["--smoke", "--out", out], 110_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("| Case |");

    const results = JSON.parse(await readFile(out, "utf8")) as Record<string, any>;
    expect(results).toMatchObject({ schema: 1, mode: "smoke", quick: true, failures: {} });
    expect(typeof results.date).toBe("string");
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.versions.workerd).toMatch(/^\d+\./);

    const { cases } = results;
    expect(cases["edge-hit"].ratio).toBeGreaterThan(0);
    expect(cases["kv-hit"].ratio).toBeGreaterThan(0);
    for (const id of ["edge-cache", "cache-api-worker", "kv-worker"]) {
      expect(cases.herd.originFetches[id]).toBeGreaterThanOrEqual(1);
      expect(cases.offload.originFetches[id]).toBeGreaterThanOrEqual(1);
      expect(typeof cases.memory.growthMB[id]).toBe("number");
      expect(typeof cases.memory.slowReader.growthMB[id]).toBe("number");
      expect(typeof cases.stale.errors[id]).toBe("number");
    }
    expect(cases.offload.ideal).toBeGreaterThan(0);

    // The committed results are never overwritten by a test.
    expect(await mtime(COMMITTED)).toBe(committedBefore);
  });
});
