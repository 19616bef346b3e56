/**
 * A Worker with the admin API on (a known token), in front of the scripted origin,
 * with the helpers admin tests need: authorized admin calls, purges, explains.
 * Built on harness.ts's clock and rules compiler; runs inside workerd.
 */
import type { WorkerEnv } from "../../src/env";
import { createWorker, type WorkerOptions } from "../../src/index";
import type { RouteRule, RouteSettings } from "../../src/rules/types";
import { drive, originRules, TestClock } from "./harness";
import { origin } from "./origin";

export const TOKEN = "test-admin-token-0123456789abcdef";

export interface AdminHarnessOptions {
  defaults?: RouteSettings;
  routes?: RouteRule[];
  /** false: no fixed rules (hot reload: RULES_JSON, KV, bundled decide). */
  fixedRules?: boolean;
  env?: Partial<WorkerEnv>;
  clock?: TestClock;
  wrapKv?: (kv: KVNamespace) => KVNamespace;
  wrapCache?: WorkerOptions["wrapCache"];
  /** Seams for multi-location tests (test/support/locations.ts). */
  wrapCoordinator?: WorkerOptions["wrapCoordinator"];
  wrapShield?: WorkerOptions["wrapShield"];
  wrapStats?: WorkerOptions["wrapStats"];
  cacheName?: string;
  location?: string;
}

export function adminHarness(options: AdminHarnessOptions = {}) {
  const clock = options.clock ?? new TestClock();
  const logs: Record<string, unknown>[] = [];
  const rules = originRules(options);
  const worker = createWorker({
    clock,
    rules: options.fixedRules === false ? undefined : rules,
    log: (l) => logs.push(l),
    // The test deployment allows its scripted origin in uploaded rules.
    env: { ADMIN_TOKEN: TOKEN, ALLOWED_ORIGINS: origin.url, ...options.env },
    wrapKv: options.wrapKv,
    wrapCache: options.wrapCache,
    wrapCoordinator: options.wrapCoordinator,
    wrapShield: options.wrapShield,
    wrapStats: options.wrapStats,
    cacheName: options.cacheName,
    location: options.location,
  });

  const { request, start } = drive(worker, clock);

  /** An admin call with the right token; `body` is sent as JSON unless it is a string. */
  async function admin(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const got = await request(`/.edge-cache/${path}`, init);
    return { ...got, json: got.text ? (JSON.parse(got.text) as Record<string, unknown>) : null };
  }

  return {
    clock,
    logs,
    rules,
    worker,
    request,
    get: request,
    start,
    admin,
    purge: (body: unknown) => admin("POST", "purge", body),
    explain: (query: string) => admin("GET", `explain?${query}`),
    adminLogs: () => logs.filter((l) => l.msg === "admin"),
  };
}
