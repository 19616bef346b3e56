/**
 * Where and with what a run was measured: the machine, the runtime and tool versions,
 * and the commit of the code under test (read-only git queries).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./contenders";
import { findNginx } from "./nginx";

function pkgVersion(name: string): string | null {
  try {
    const json = JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string };
    return json.version;
  } catch {
    return null;
  }
}

function git(args: string[]): string | null {
  const r = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    loadAverageAtEnd: [] as number[],
  };
}

export function versions() {
  const status = git(["status", "--porcelain", "--", "src", "config", "wrangler.jsonc"]);
  return {
    node: process.version,
    miniflare: pkgVersion("miniflare"),
    workerd: pkgVersion("workerd"),
    wrangler: pkgVersion("wrangler"),
    esbuild: pkgVersion("esbuild"),
    undici: pkgVersion("undici"),
    nginx: findNginx()?.version ?? null,
    commit: git(["rev-parse", "--short", "HEAD"]),
    /** True when src/, config/ or wrangler.jsonc had uncommitted changes: the numbers are of the working tree. */
    dirty: status === null ? null : status.length > 0,
  };
}
