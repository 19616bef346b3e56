/**
 * Drives the Worker the way production does (through its fetch handler, inside
 * workerd, with the real local Cache API and KV) but with a clock the test moves.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createWorker } from "../../src/index";
import { parseRules } from "../../src/rules/parse";
import type { CompiledRules, RouteRule, RouteSettings } from "../../src/rules/types";
import { origin } from "./origin";

export const SITE = "https://site.test";

export function compile(file: unknown): CompiledRules {
  const result = parseRules(file);
  if (!result.rules) throw new Error(`test rules invalid: ${JSON.stringify(result.problems, null, 2)}`);
  return result.rules;
}

export class TestClock {
  t = Date.now();
  now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

export interface Got {
  res: Response;
  status: number;
  headers: Headers;
  text: string;
  bytes: Uint8Array;
  cacheStatus: string;
}

export interface HarnessOptions {
  defaults?: RouteSettings;
  routes?: RouteRule[];
}

/** A Worker in front of the scripted origin with the given rules (default: one catch-all route). */
export function harness(options: HarnessOptions = {}) {
  const clock = new TestClock();
  const logs: Record<string, unknown>[] = [];
  const rules = compile({
    version: 1,
    origin: origin.url,
    defaults: options.defaults ?? {},
    routes: options.routes ?? [{ name: "all", match: { path: "/*" } }],
  });
  const worker = createWorker({ now: clock.now, rules, log: (l) => logs.push(l) });

  /** One request through the Worker; waits for its background work (stores) before returning. */
  async function request(path: string, init: RequestInit = {}): Promise<Got> {
    const headers = new Headers(init.headers);
    headers.set("x-test-now", String(clock.now()));
    const ctx = createExecutionContext();
    const res = await worker.fetch!(new Request(`${SITE}${path}`, { ...init, headers }) as never, env, ctx);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } finally {
      await waitOnExecutionContext(ctx);
    }
    return {
      res,
      status: res.status,
      headers: res.headers,
      bytes,
      text: new TextDecoder().decode(bytes),
      cacheStatus: res.headers.get("cache-status") ?? "",
    };
  }

  /** Starts a request without reading it: for concurrency tests. */
  function start(path: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers);
    headers.set("x-test-now", String(clock.now()));
    const ctx = createExecutionContext();
    const response = worker.fetch!(new Request(`${SITE}${path}`, { ...init, headers }) as never, env, ctx);
    return { response: Promise.resolve(response), done: () => waitOnExecutionContext(ctx) };
  }

  return { clock, logs, rules, worker, request, start, get: request };
}
