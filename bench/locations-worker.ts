/**
 * The bench's many-locations Worker: four `createWorker()` instances in one workerd,
 * each with its own Cache API namespace (`location-N`), over one KV namespace and
 * the same Durable Object namespaces, chosen per request by `x-bench-location`.
 * Counts the requests made to Durable Objects (coordinator calls, also per method,
 * and shield asks) and the KV writes the Worker makes (puts, through `wrapKv`),
 * served at `GET /__bench/do-requests` (and reset by `DELETE`).
 */
import { createWorker } from "../src/index";
import type { WorkerEnv } from "../src/env";

export { Coordinator, Shield } from "../src/index";

const counts = { coordinator: 0, shield: 0, kvWrites: 0, methods: {} as Record<string, number> };
const locations = Array.from({ length: 4 }, (_, i) =>
  createWorker({
    cacheName: `location-${i}`,
    log: () => {},
    wrapKv: (kv) =>
      new Proxy(kv, {
        get(target, name) {
          const value = Reflect.get(target, name) as unknown;
          if (typeof value !== "function") return value;
          if (name !== "put") return value.bind(target);
          return (...args: unknown[]) => {
            counts.kvWrites++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }),
    wrapCoordinator: (api) =>
      new Proxy(api, {
        get(target, name) {
          const call = target as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
          return (...args: unknown[]) => {
            counts.coordinator++;
            counts.methods[String(name)] = (counts.methods[String(name)] ?? 0) + 1;
            return call[name]!(...args);
          };
        },
      }),
    wrapShield: (stub) => ({
      ask: (question) => {
        counts.shield++;
        return stub.ask(question);
      },
    }),
  }),
);

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/do-requests") {
      const body = JSON.stringify(counts);
      if (request.method === "DELETE") {
        counts.coordinator = counts.shield = counts.kvWrites = 0;
        counts.methods = {};
      }
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    const i = Number(request.headers.get("x-bench-location") ?? 0) % locations.length;
    return locations[i]!.fetch!(request as never, env, ctx);
  },
};
