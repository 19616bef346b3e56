/**
 * The bench's many-isolates Worker: `createWorker()` instances made on demand in one
 * workerd, one per (`x-bench-location`, `x-bench-isolate`); the isolates of a location
 * share its Cache API namespace, as on Cloudflare. Over one KV namespace and the same
 * Durable Objects. Counts the coordinator calls (per method), can hold each one for a
 * set time (a coordinator "150 ms away"), and keeps each isolate's last `since` answer
 * size and time. The coordinator class adds `seedRows`, which writes old purge rows
 * straight into its log (a year of purges in seconds: `recordPurge` dates every purge
 * now, by design).
 *
 *   GET|DELETE /__bench/counts      { methods, since: { [isolate]: { bytes, ms } } } (DELETE resets)
 *   POST /__bench/delay?ms=N        hold every coordinator call N ms from now on
 *   POST /__bench/seed-purges?site=S&count=N&days=D   N rows over D days, the newest 2 minutes ago
 */
import { Coordinator as SiteCoordinator } from "../src/coordinator/object";
import { setMeta } from "../src/coordinator/meta";
import { targetHash } from "../src/purge/index-table";
import type { CoordinatorApi } from "../src/coordinator/client";
import { createWorker } from "../src/index";
import type { WorkerEnv } from "../src/env";

export { Shield } from "../src/index";

export class Coordinator extends SiteCoordinator {
  /** Rows `from` to `from + count` of `total` URL purge rows, evenly from `days` ago to 2 minutes ago, in sequence order. */
  async seedRows(site: string, from: number, count: number, total: number, days: number): Promise<number> {
    const sql = this.ctx.storage.sql;
    const newest = Date.now() - 120_000;
    const span = days * 86_400_000;
    this.ctx.storage.transactionSync(() => {
      for (let i = from; i < from + count; i++) {
        const at = newest - span + (span * i) / total;
        sql.exec("INSERT INTO purge_rows (hash, hard, soft, seq, kind, value) VALUES (?, ?, 0, ?, 'urls', ?) ON CONFLICT (hash) DO NOTHING", targetHash("urls", `https://bench.test/old/${i}`), at, i + 1, `https://bench.test/old/${i}`);
      }
      setMeta(sql, "purge_seq", from + count);
      setMeta(sql, "purge_last_at", newest);
      setMeta(sql, "purge_horizon_ms", span);
      setMeta(sql, "site", site);
    });
    return from + count;
  }
}

const methods: Record<string, number> = {};
const since: Record<string, { bytes: number; ms: number }> = {};
let delayMs = 0;
const isolates = new Map<string, ExportedHandler<WorkerEnv>>();

function isolate(location: string, id: string, site: string): ExportedHandler<WorkerEnv> {
  const key = `${site}/${location}/${id}`;
  let worker = isolates.get(key);
  if (!worker) {
    worker = createWorker({
      cacheName: `bench-${site}-${location}`,
      location,
      log: () => {},
      env: { SITE_NAME: site },
      wrapCoordinator: (api) =>
        new Proxy(api, {
          get(target, name) {
            const call = target as unknown as Record<string | symbol, (...a: unknown[]) => Promise<unknown>>;
            return async (...args: unknown[]) => {
              methods[String(name)] = (methods[String(name)] ?? 0) + 1;
              const t0 = performance.now();
              if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
              const answer = await call[name]!(...args);
              if (name === "since") {
                const d = answer as Awaited<ReturnType<CoordinatorApi["since"]>>;
                since[key] = { bytes: d.purges.rows.byteLength + (d.rules.latest?.text?.length ?? 0), ms: performance.now() - t0 };
              }
              return answer;
            };
          },
        }),
    });
    isolates.set(key, worker);
  }
  return worker;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
    if (url.pathname === "/__bench/counts") {
      const body = { methods: { ...methods }, since: { ...since } };
      if (request.method === "DELETE") {
        for (const k of Object.keys(methods)) delete methods[k];
        for (const k of Object.keys(since)) delete since[k];
      }
      return json(body);
    }
    if (url.pathname === "/__bench/delay") {
      delayMs = Number(url.searchParams.get("ms") ?? 0);
      return json({ delayMs });
    }
    if (url.pathname === "/__bench/seed-purges") {
      const site = url.searchParams.get("site") ?? "default";
      const stub = env.COORDINATOR.get(env.COORDINATOR.idFromName(site)) as unknown as Coordinator;
      const count = Number(url.searchParams.get("count") ?? 0);
      const days = Number(url.searchParams.get("days") ?? 400);
      let done = 0;
      while (done < count) done = await stub.seedRows(site, done, Math.min(100_000, count - done), count, days);
      return json({ rows: done });
    }
    const h = request.headers;
    return isolate(h.get("x-bench-location") ?? "0", h.get("x-bench-isolate") ?? "0", h.get("x-bench-site") ?? "default").fetch!(request as never, env, ctx);
  },
};
