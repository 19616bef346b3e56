/**
 * The contenders: edge-cache as built, the two seed-style baselines, and nginx.
 * Each Worker runs in its own workerd (Miniflare) with its own Cache API and KV.
 *
 *   edge-cache        src/index.ts bundled with esbuild, RULES_JSON = bench/rules.bench.json
 *                     with `origin` set to the bench origin, KV binding CACHE_KV
 *   cache-api-worker  bench/baselines/cache-api-worker.js (Cloudflare's Cache API example)
 *   kv-worker         bench/baselines/kv-worker.js (the KV tutorials' cache-aside)
 *   nginx             proxy_cache with proxy_cache_lock on (bench/nginx.ts)
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { HitTest } from "./load";
import { startNginx } from "./nginx";
import { bundleWorker, startWorker, type WorkerProcess } from "./runtime";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type ContenderId = "edge-cache" | "cache-api-worker" | "kv-worker" | "nginx";

export const LABELS: Record<ContenderId, string> = {
  "edge-cache": "edge-cache",
  "cache-api-worker": "seed Cache API worker",
  "kv-worker": "seed KV worker",
  nginx: "nginx proxy_cache",
};

export interface Contender {
  id: ContenderId;
  url: string;
  /** The process serving it (workerd or the nginx master), for memory readings. */
  pid: number | null;
  isHit: HitTest;
  /** Worker stderr lines (errors logged by the Worker), when it is a Worker. */
  worker?: WorkerProcess;
  close(): Promise<void>;
}

const header = (h: Record<string, string | string[] | undefined>, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v.join(", ") : v ?? "";
};

export const HIT_TESTS: Record<ContenderId, HitTest> = {
  // RFC 9211: `edge-cache; hit; ...` (a collapsed wait reads `fwd=uri-miss; collapsed`).
  "edge-cache": (h) => /;\s*hit\b/.test(header(h, "cache-status")),
  // Miniflare's Cache API marks what `match` returns.
  "cache-api-worker": (h) => header(h, "cf-cache-status").toUpperCase() === "HIT",
  // The KV tutorial worker says nothing; the origin's counts tell.
  "kv-worker": () => false,
  nginx: (h) => /^(HIT|STALE|UPDATING)$/.test(header(h, "x-cache-status")),
};

export interface WorkerBuild {
  edgeCache: string;
  cacheApi: string;
  kv: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  rulesText: string;
}

/** Reads wrangler.jsonc (JSON with comments) for the compatibility date and flags the Worker is deployed with. */
export async function wranglerConfig(): Promise<{ compatibilityDate: string; compatibilityFlags: string[] }> {
  const text = await readFile(path.join(ROOT, "wrangler.jsonc"), "utf8");
  const json = JSON.parse(stripJsonComments(text)) as { compatibility_date?: string; compatibility_flags?: string[] };
  if (!json.compatibility_date) throw new Error("wrangler.jsonc has no compatibility_date");
  return { compatibilityDate: json.compatibility_date, compatibilityFlags: json.compatibility_flags ?? [] };
}

function stripJsonComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
      if (i === 0) break;
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

export async function buildWorkers(outDir: string, rulesFile: string, entry?: string): Promise<WorkerBuild> {
  const [edgeCache, cacheApi, kv, cfg, rulesText] = await Promise.all([
    bundleWorker(entry ?? path.join(ROOT, "src", "index.ts"), outDir),
    bundleWorker(path.join(ROOT, "bench", "baselines", "cache-api-worker.js"), outDir),
    bundleWorker(path.join(ROOT, "bench", "baselines", "kv-worker.js"), outDir),
    wranglerConfig(),
    readFile(rulesFile, "utf8"),
  ]);
  return { edgeCache, cacheApi, kv, ...cfg, rulesText };
}

function workerContender(id: ContenderId, w: WorkerProcess): Contender {
  return { id, url: w.url, pid: w.pid, isHit: HIT_TESTS[id], worker: w, close: () => w.dispose() };
}

export interface WorkerTtls {
  /** `s-maxage` the Cache API baseline appends. */
  sMaxAge: number;
  /** `expirationTtl` of the KV baseline (KV's minimum is 60). */
  kvTtl: number;
}

/** Starts one Worker contender in front of `origin`. */
export async function startWorkerContender(
  id: Exclude<ContenderId, "nginx">,
  build: WorkerBuild,
  origin: string,
  ttls: WorkerTtls,
  tag = "",
  inspect = false,
): Promise<Contender> {
  const base = { compatibilityDate: build.compatibilityDate, compatibilityFlags: build.compatibilityFlags, inspect };
  switch (id) {
    case "edge-cache": {
      const rules = { ...(JSON.parse(build.rulesText) as object), origin };
      const w = await startWorker({
        ...base,
        name: `edge-cache${tag}`,
        scriptPath: build.edgeCache,
        bindings: { RULES_JSON: JSON.stringify(rules) },
        kv: ["CACHE_KV"],
        durableObjects: { COORDINATOR: "Coordinator", SHIELD: "Shield" },
      });
      return workerContender(id, w);
    }
    case "cache-api-worker": {
      const w = await startWorker({
        ...base,
        name: `cache-api-worker${tag}`,
        scriptPath: build.cacheApi,
        bindings: { ORIGIN: origin, S_MAXAGE: String(ttls.sMaxAge) },
      });
      return workerContender(id, w);
    }
    case "kv-worker": {
      const w = await startWorker({
        ...base,
        name: `kv-worker${tag}`,
        scriptPath: build.kv,
        bindings: { ORIGIN: origin, TTL: String(ttls.kvTtl) },
        kv: ["CACHE_KV"],
      });
      return workerContender(id, w);
    }
    default:
      return id satisfies never;
  }
}

/** nginx in front of `origin`, or null when nginx is not installed. */
export async function startNginxContender(origin: string): Promise<Contender | null> {
  const nginx = await startNginx(origin);
  if (!nginx) return null;
  return { id: "nginx", url: nginx.url, pid: nginx.pid ?? null, isHit: HIT_TESTS.nginx, close: () => nginx.close() };
}
