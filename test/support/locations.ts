/**
 * Several isolates in several locations, in one test: `createWorker()` instances over
 * the same KV and Durable Object namespaces, each with its own Cache API namespace
 * (`caches.open("location-N")`, unique per call so tests never share entries) and
 * one clock. Each location may wrap its bindings (KV delays, coordinator faults).
 */
import type { CoordinatorApi, CoordinatorWrapper } from "../../src/coordinator/client";
import { runInDurableObject } from "cloudflare:test";
import type { ShieldStub, ShieldWrapper } from "../../src/shield/client";
import type { ShieldQuestion, ShieldReply } from "../../src/shield/protocol";
import { adminHarness, type AdminHarnessOptions } from "./admin-harness";
import { TestClock } from "./harness";

export interface LocationsOptions extends Omit<AdminHarnessOptions, "clock" | "cacheName" | "location" | "wrapKv" | "wrapCoordinator" | "wrapShield" | "wrapStats"> {
  wrapShield?: (location: number) => AdminHarnessOptions["wrapShield"];
  wrapKv?: (kv: KVNamespace, location: number) => KVNamespace;
  wrapCoordinator?: (location: number) => AdminHarnessOptions["wrapCoordinator"];
  wrapStats?: (location: number) => AdminHarnessOptions["wrapStats"];
}

/** `count` locations of one site; the site (its coordinator) is new for each call unless `site` is given. */
export function locations(count: number, options: LocationsOptions & { site?: string } = {}) {
  const clock = new TestClock();
  const run = crypto.randomUUID().slice(0, 8);
  const site = options.site ?? `site-${run}`;
  const sites = Array.from({ length: count }, (_, i) =>
    adminHarness({
      ...options,
      env: { SITE_NAME: site, ...options.env },
      clock,
      cacheName: `location-${i}-${run}`,
      location: `location-${i}-${run}`,
      wrapKv: options.wrapKv && ((kv) => options.wrapKv!(kv, i)),
      wrapCoordinator: options.wrapCoordinator?.(i),
      wrapShield: options.wrapShield?.(i),
      wrapStats: options.wrapStats?.(i),
    }),
  );
  return { clock, sites, site };
}

type Method = keyof CoordinatorApi;

/**
 * A coordinator wrapper that runs every call through `around` (count it, delay it,
 * fail it), the way the KV and Cache API wrappers do for theirs.
 */
export function aroundCoordinator(around: (method: Method, call: () => Promise<unknown>) => Promise<unknown>): CoordinatorWrapper {
  return (api) =>
    new Proxy(api, {
      get(target, name) {
        const method = name as Method;
        // Called on the stub itself: an RPC method taken off a stub is not a plain function.
        const call = (args: unknown[]) => (target as unknown as Record<Method, (...a: unknown[]) => Promise<unknown>>)[method](...args);
        return (...args: unknown[]) => around(method, () => call(args));
      },
    });
}

/** `kv` with some of its methods replaced; `make` gets the real namespace to call through. */
export function overrideKv(kv: KVNamespace, make: (target: KVNamespace) => Partial<Record<keyof KVNamespace, unknown>>): KVNamespace {
  const overrides = make(kv) as Record<PropertyKey, unknown>;
  return new Proxy(kv, {
    get(target, name) {
      if (Object.hasOwn(overrides, name)) return overrides[name];
      const value = Reflect.get(target, name) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * KV as locations see it: what one location writes, the others see only `delayMs`
 * later (KV caches reads per location, for about 60 s). Text values are tracked;
 * other values pass through unchanged.
 */
export function delayedKv(clock: TestClock, delayMs: number) {
  const history = new Map<string, { at: number; writer: number; value: string }[]>();
  return (kv: KVNamespace, location: number): KVNamespace =>
    overrideKv(kv, (target) => ({
      put: async (key: string, value: unknown, options?: KVNamespacePutOptions) => {
        await target.put(key, value as string, options);
        if (typeof value === "string") history.set(key, [...(history.get(key) ?? []), { at: clock.now(), writer: location, value }]);
      },
      get: async (key: string, options?: unknown) => {
        const seen = history.get(key);
        const visible = seen?.filter((w) => w.writer === location || w.at + delayMs <= clock.now()).at(-1);
        if (!seen || visible === seen.at(-1)) return target.get(key, options as never);
        if (!visible) return null;
        const type = typeof options === "string" ? options : (options as { type?: string } | undefined)?.type;
        return type === "json" ? JSON.parse(visible.value) : visible.value;
      },
    }));
}

/**
 * For tests of one key (one shield object): records what each location asks it, and
 * counts the waiters on its running flight.
 */
export function watchShield() {
  let shield: ShieldStub | null = null;
  const questions: ShieldQuestion[] = [];
  return {
    questions,
    wrapShield: (): ShieldWrapper => (stub) => {
      shield ??= stub;
      return { ask: (question) => (questions.push(question), stub.ask(question)) };
    },
    waiters: async () =>
      shield === null
        ? 0
        : runInDurableObject(shield as unknown as DurableObjectStub, (o) => (o as unknown as { flight: { waiters: number } | null }).flight?.waiters ?? 0),
  };
}

/** A shield wrapper that runs every call of its RPC method through `around`. */
export function aroundShield(around: (call: () => Promise<ShieldReply>) => Promise<ShieldReply>): ShieldWrapper {
  return (stub) => ({ ask: (question) => around(() => stub.ask(question)) });
}
