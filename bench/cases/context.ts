/**
 * What every case gets: the configuration, the bench origin, the running contenders
 * and a way to log progress. Cases never start the shared contenders themselves.
 */
import type { BenchConfig } from "../config";
import type { Contender, ContenderId, WorkerBuild } from "../contenders";
import type { BenchOrigin } from "../origin";

export interface BenchContext {
  config: BenchConfig;
  origin: BenchOrigin;
  /** The contenders in front of `origin`; nginx is absent when not installed or left out. */
  contenders: Partial<Record<ContenderId, Contender>>;
  build: WorkerBuild;
  log(message: string): void;
}

/** The contenders of a case that are running, in the order given. */
export function present(ctx: BenchContext, ids: ContenderId[]): Contender[] {
  return ids.map((id) => ctx.contenders[id]).filter((c): c is Contender => c !== undefined);
}
