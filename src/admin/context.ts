/**
 * What every admin endpoint gets, and what it gives back: the response plus the
 * facts of its one log line (action, targets, result).
 */
import type { RulesSource } from "../rules/active";
import type { WorkerEnv } from "../env";
import type { PurgeStore } from "../purge/state";
import type { Tiers } from "../tiers/two-tier";
import type { IsolateStats } from "../stats/recorder";

export interface AdminDeps {
  rules: RulesSource;
  purges: PurgeStore;
  tiers: Tiers;
  now(): number;
  log(line: Record<string, unknown>): void;
  /** The request counters behind `stats` and the dashboard. */
  stats?: Pick<IsolateStats, "answer" | "traffic">;
  /** For Cloudflare's API (tests may stand in). */
  fetch?: typeof fetch;
}

export interface AdminContext {
  request: Request;
  url: URL;
  env: WorkerEnv;
  deps: AdminDeps;
}

export interface AdminOutcome {
  response: Response;
  /** What was asked for, for the log: URLs, tags, a rules version; never a secret. */
  targets?: unknown;
  /** "ok", or a short word for what went wrong ("invalid", "refused", "kv-error"). */
  result: string;
}

export type AdminHandler = (c: AdminContext) => Promise<AdminOutcome>;
