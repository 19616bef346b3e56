/**
 * The isolate's half of `buildHeader`: it watches the origin's answers and tells the
 * coordinator only when an answer carries another value than the current build it
 * knows (so about once per isolate per deploy, never per request). When the
 * coordinator says it is a new build, the soft purge of the header's routes applies
 * here at once; other isolates get it with their next purge delta (within 5 s). A
 * coordinator that fails is logged; the isolate then purges locally only if it saw
 * the change itself (it knew an older value), and asks again on the next answer.
 */
import { within, type Clock } from "../clock";
import type { CoordinatorApi } from "../coordinator/client";
import type { PurgeStore } from "../purge/state";
import { COORDINATOR_TIMEOUT_MS } from "../purge/state";
import { FLAP_MS, nextBuild, type BuildRecord } from "./record";

/** Header names remembered per isolate (a rules file names a few). */
const MAX_REMEMBERED = 1_000;

export interface BuildSighting {
  header: string;
  value: string;
  /** The routes with this header. */
  routes: readonly string[];
  horizonMs: number;
}

export interface BuildWatch {
  /** An origin answer carried `value`; the work (if any) runs in `background`. */
  seen(s: BuildSighting, background: (p: Promise<unknown>) => void): void;
}

export interface BuildWatchOptions {
  site: string;
  coordinator(): CoordinatorApi;
  purges: Pick<PurgeStore, "applyLocal">;
  clock: Clock;
  log(line: Record<string, unknown>): void;
}

export function createBuildWatch(options: BuildWatchOptions): BuildWatch {
  const { clock } = options;
  // Per header: the current build as this isolate knows it, and the values it replaced lately.
  const known = new Map<string, BuildRecord>();
  const asking = new Set<string>();

  const remember = (header: string, record: BuildRecord) => {
    known.delete(header);
    known.set(header, record);
    if (known.size > MAX_REMEMBERED) known.delete(known.keys().next().value as string);
  };

  async function ask(s: BuildSighting): Promise<void> {
    const before = known.get(s.header) ?? null;
    try {
      const call = options.coordinator().recordBuild({ site: options.site, header: s.header, value: s.value, routes: s.routes, at: clock.now(), horizonMs: s.horizonMs });
      const answer = await within(clock, COORDINATOR_TIMEOUT_MS * 5, call, null);
      if (answer === null) throw new Error(`no answer in ${COORDINATOR_TIMEOUT_MS * 5} ms`);
      let record = nextBuild(before, answer.value, clock.now()).record;
      // The coordinator took the value for an old server's: not asked again while that holds.
      if (answer.value !== s.value) record = { ...record, recent: [{ value: s.value, until: clock.now() + FLAP_MS }, ...record.recent].slice(0, 8) };
      remember(s.header, record);
      if (answer.changed) options.purges.applyLocal({ kind: "routes", values: s.routes }, true, answer.at);
    } catch (err) {
      options.log({ msg: "coordinator-unavailable", part: "build", error: err instanceof Error ? err.message : String(err) });
      // Judged here alone, by the same rule: a first value is no change.
      const { record, changed } = nextBuild(before, s.value, clock.now());
      remember(s.header, record);
      if (changed) options.purges.applyLocal({ kind: "routes", values: s.routes }, true, clock.now());
    }
  }

  return {
    seen(s, background) {
      const record = known.get(s.header);
      const now = clock.now();
      if (record && (record.value === s.value || record.recent.some((r) => r.value === s.value && r.until > now))) return;
      if (asking.has(s.header)) return;
      asking.add(s.header);
      background(ask(s).finally(() => asking.delete(s.header)));
    },
  };
}

/** The routes of `rules` that name `header` as their build header. */
export function buildRoutes(routes: readonly { name: string; buildHeader: string | null }[], header: string): string[] {
  return routes.filter((r) => r.buildHeader === header).map((r) => r.name);
}
