/**
 * The many-locations cases, against bench/locations-worker.ts (four createWorker()
 * instances with their own Cache API namespaces over shared KV and Durable Objects):
 *
 *   locations-herd  4 locations × 25 concurrent requests for one cold URL, on a
 *                   shielded route and on the same route without the shield; the
 *                   origin counts what reached it (goal: 1 with the shield).
 *   purge-race      20 URLs stored in all 4 locations, 20 concurrent purges sent
 *                   through the 4; `lost` = purges some location still serves past
 *                   the stated bound (goal 0), `propagationMs` = from the last purge's
 *                   answer until every location has stopped serving every URL.
 *   offload.coordinatorRequests  Durable Object requests per 1,000 site requests on
 *                   the offload trace (one location, cold).
 *   offload.kvWrites             KV writes (puts) per 1,000 site requests, same replay.
 */
import { makeTrace } from "../trace";
import { sleep } from "../stats";
import type { BenchContext } from "./context";

/** The stated propagation bound (PURGE_BOUND_MS in src/purge/state.ts, Worker code this Node file cannot import). */
const PURGE_BOUND_MS = 5_000;

export const BENCH_TOKEN = "bench-admin-token-0123456789abcdef";

export interface LocationsHerdResult {
  originFetches: { "edge-cache": number; "no-shield": number };
  locations: number;
  concurrency: number;
  errors: number;
  goal: string;
  met: boolean;
}

export interface PurgeRaceResult {
  lost: number;
  propagationMs: number;
  purges: number;
  locations: number;
  boundMs: number;
  goal: string;
  met: boolean;
}

const LOCATIONS = 4;

function get(base: string, path: string, location: number): Promise<Response> {
  return fetch(`${base}${path}`, { headers: { "x-bench-location": String(location) } });
}

export async function locationsHerdCase(ctx: BenchContext, base: string): Promise<LocationsHerdResult> {
  const concurrency = 25;
  let errors = 0;
  const herd = async (path: string) => {
    const all = Array.from({ length: LOCATIONS * concurrency }, async (_, i) => {
      const res = await get(base, path, i % LOCATIONS).catch(() => null);
      if (!res || res.status !== 200) errors++;
      await res?.arrayBuffer();
    });
    await Promise.all(all);
    await sleep(300);
    return ctx.origin.count(path);
  };
  const run = Date.now().toString(36);
  const shielded = await herd(`/herd/shield/${run}`);
  const plain = await herd(`/herd/plain/${run}`);
  ctx.log(`  locations-herd: ${shielded} origin fetches with the shield, ${plain} without, for ${LOCATIONS}×${concurrency} requests`);
  return {
    originFetches: { "edge-cache": shielded, "no-shield": plain },
    locations: LOCATIONS,
    concurrency,
    errors,
    goal: "1 origin fetch with the shield",
    met: shielded === 1 && errors === 0,
  };
}

export async function purgeRaceCase(ctx: BenchContext, base: string): Promise<PurgeRaceResult> {
  const run = Date.now().toString(36);
  const paths = Array.from({ length: 20 }, (_, i) => `/hit/purge-race/${run}/${i}`);
  // Stored in every location (twice: the second read is the edge hit), then left to age, so a
  // copy from before the purges (Age ≥ its time since then) is told from one stored after them.
  for (let l = 0; l < LOCATIONS; l++) for (const p of paths) for (let k = 0; k < 2; k++) await (await get(base, p, l)).arrayBuffer();
  await sleep(3_000);
  let purgedAt = 0;
  const servesOld = (res: Response) =>
    /;\s*hit\b/.test(res.headers.get("cache-status") ?? "") && Number(res.headers.get("age") ?? 0) * 1000 >= performance.now() - purgedAt + 1_500;
  const answers = await Promise.all(
    paths.map((p, i) =>
      fetch(`${base}/.edge-cache/purge`, {
        method: "POST",
        headers: { authorization: `Bearer ${BENCH_TOKEN}`, "x-bench-location": String(i % LOCATIONS) },
        body: JSON.stringify({ urls: [p] }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { sequence?: number } })),
    ),
  );
  const recorded = new Set(answers.filter((a) => a.status === 200).map((a) => a.body.sequence));
  const t0 = performance.now();
  purgedAt = t0;
  // Each (location, URL) is polled until it stops serving the old copy.
  const pending = new Set(paths.flatMap((p) => Array.from({ length: LOCATIONS }, (_, l) => `${l} ${p}`)));
  let propagationMs = 0;
  const deadline = t0 + PURGE_BOUND_MS * 4;
  while (pending.size > 0 && performance.now() < deadline) {
    for (const item of [...pending]) {
      const [l, p] = item.split(" ") as [string, string];
      const res = await get(base, p, Number(l));
      await res.arrayBuffer();
      if (!servesOld(res)) {
        pending.delete(item);
        propagationMs = performance.now() - t0;
      }
    }
    if (pending.size > 0) await sleep(100);
  }
  const late = new Set([...pending].map((i) => i.split(" ")[1]));
  const lost = paths.length - recorded.size + late.size;
  ctx.log(`  purge-race: ${recorded.size}/20 purges recorded, ${late.size} URLs still served somewhere, all stopped within ${Math.round(propagationMs)} ms`);
  return {
    lost,
    propagationMs: Math.round(propagationMs),
    purges: paths.length,
    locations: LOCATIONS,
    boundMs: PURGE_BOUND_MS,
    goal: `0 lost; every location stops serving within ${PURGE_BOUND_MS} ms`,
    met: lost === 0 && propagationMs <= PURGE_BOUND_MS,
  };
}

interface BenchCounts {
  coordinator: number;
  shield: number;
  kvWrites: number;
  methods?: Record<string, number>;
}

/**
 * The counters once the background work has stopped adding to them. KV writes (and some
 * coordinator calls) run in waitUntil, after the answers, and how many will come depends
 * on KV admission and Vary, which the bench cannot predict; nor does the Worker expose
 * what is still in flight. So the counts are read until they have not moved for
 * `quietMs`: a slow machine that is still writing keeps extending the wait, a fast one
 * ends it early. Past `deadlineMs` the last reading is taken as it is.
 */
async function settledCounts(base: string, quietMs = 300, deadlineMs = 10_000): Promise<BenchCounts> {
  const read = async () => (await (await fetch(`${base}/__bench/do-requests`)).json()) as BenchCounts;
  const same = (a: BenchCounts, b: BenchCounts) => a.kvWrites === b.kvWrites && a.coordinator === b.coordinator && a.shield === b.shield;
  const deadline = performance.now() + deadlineMs;
  let last = await read();
  let movedAt = performance.now();
  while (performance.now() - movedAt < quietMs && performance.now() < deadline) {
    await sleep(50);
    const now = await read();
    if (!same(now, last)) movedAt = performance.now();
    last = now;
  }
  return last;
}

/**
 * Per 1,000 site requests, replaying the offload trace through one location: the
 * Durable Object requests (`offload.coordinatorRequests`) and the KV writes
 * (`offload.kvWrites["edge-cache"]`; each is one `put` the Worker made).
 */
export async function offloadCounts(ctx: BenchContext, base: string): Promise<{ coordinatorRequests: number; kvWrites: { "edge-cache": number } }> {
  const o = ctx.config.offload;
  const trace = makeTrace({ requests: o.requests, urls: o.urls, trackingShare: 1 / 3, seed: 7_000, prefix: `/o/do-${Date.now().toString(36)}` });
  await fetch(`${base}/__bench/do-requests`, { method: "DELETE" });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < trace.paths.length) {
        const p = trace.paths[next++]!;
        await (await get(base, p, 0)).arrayBuffer();
      }
    }),
  );
  const counts = await settledCounts(base);
  const perThousand = (n: number) => Math.round(((n * 1000) / trace.paths.length) * 10) / 10;
  const methods = Object.entries(counts.methods ?? {}).map(([m, n]) => `${m} ${n}`).join(", ");
  ctx.log(`  offload.coordinatorRequests: ${counts.coordinator + counts.shield} Durable Object requests (${methods}; shield ${counts.shield}) for ${trace.paths.length} requests in ${Math.round(performance.now() - started)} ms`);
  ctx.log(`  offload.kvWrites: ${counts.kvWrites} KV writes for ${trace.paths.length} requests (${trace.ideal} distinct normalized URLs)`);
  return { coordinatorRequests: perThousand(counts.coordinator + counts.shield), kvWrites: { "edge-cache": perThousand(counts.kvWrites) } };
}
