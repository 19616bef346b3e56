/**
 * Drives the Worker the way production does (through its fetch handler, inside
 * workerd, with the real local Cache API and KV) but with a clock the test moves.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Clock, Timer } from "../../src/clock";
import type { WorkerEnv } from "../../src/env";
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

/** A clock that moves only when the test says so; its timers fire as it passes them. */
export class TestClock implements Clock {
  t = Date.now();
  private pending: { at: number; fire: () => void }[] = [];
  now = (): number => this.t;
  timer = (ms: number): Timer => {
    let fire!: () => void;
    const fired = new Promise<void>((resolve) => (fire = resolve));
    const entry = { at: this.t + ms, fire };
    this.pending.push(entry);
    return { fired, cancel: () => (this.pending = this.pending.filter((p) => p !== entry)) };
  };
  advance(seconds: number): void {
    this.t += seconds * 1000;
    const due = this.pending.filter((p) => p.at <= this.t);
    this.pending = this.pending.filter((p) => p.at > this.t);
    for (const p of due) p.fire();
  }
  /** Timers waiting to fire: lets a test see that a request is waiting before it moves time. */
  get waiting(): number {
    return this.pending.length;
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

/** Rules in front of the scripted origin: the given defaults and routes (default: one catch-all route). */
export function originRules(options: HarnessOptions = {}): CompiledRules {
  return compile({
    version: 1,
    origin: origin.url,
    defaults: options.defaults ?? {},
    routes: options.routes ?? [{ name: "all", match: { path: "/*" } }],
  });
}

/** A Worker in front of the scripted origin with the given rules (default: one catch-all route). */
export function harness(options: HarnessOptions = {}) {
  const clock = new TestClock();
  const logs: Record<string, unknown>[] = [];
  const rules = originRules(options);
  const worker = createWorker({ clock, rules, log: (l) => logs.push(l) });
  // A site of its own: the harnesses of a file share one Cache API and would otherwise share
  // the site's coordinator and location copy, written under another harness's clock.
  const driver = drive(worker, clock, { SITE_NAME: `harness-${crypto.randomUUID()}` });
  return { clock, logs, rules, worker, ...driver, get: driver.request };
}

/** Requests through a Worker's fetch handler, stamped with the test clock for the origin's Date. */
export function drive(worker: ExportedHandler<WorkerEnv>, clock: TestClock, bindings: Partial<WorkerEnv> = {}) {
  function launch(path: string, init: RequestInit) {
    const headers = new Headers(init.headers);
    headers.set("x-test-now", String(clock.now()));
    const ctx = createExecutionContext();
    const url = path.startsWith("http") ? path : `${SITE}${path}`;
    const response = worker.fetch!(new Request(url, { ...init, headers }) as never, { ...env, ...bindings }, ctx);
    return { response: Promise.resolve(response), done: () => waitOnExecutionContext(ctx) };
  }

  /** One request (path or absolute URL); waits for its background work (stores) before returning. */
  async function request(path: string, init: RequestInit = {}): Promise<Got> {
    const started = launch(path, init);
    const res = await started.response;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } finally {
      await started.done();
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
  const start = (path: string, init: RequestInit = {}) => launch(path, init);
  return { request, start };
}
