/**
 * The isolate's half of `buildHeader`: it watches the origin's answers and tells the
 * coordinator only when an answer carries another value than the current build it
 * knows (so about once per isolate per deploy, never per request). When the
 * coordinator says it is a new build, the soft purge of the header's routes applies
 * here at once; other isolates get it with their next purge delta (within 5 s). A
 * coordinator that fails is logged; the isolate then purges locally only if it saw
 * the change itself (it knew an older value), and takes that value as the current
 * build: it asks again on the next value it does not know.
 */
import { remember } from "../bounded-map";
import { answerWithin, type Clock } from "../clock";
import type { CoordinatorApi } from "../coordinator/client";
import type { PurgeStore } from "../purge/state";
import { COORDINATOR_WRITE_TIMEOUT_MS } from "../coordinator/timing";
import { FLAP_MS, nextBuild, type BuildRecord } from "./record";

/** Header names remembered per isolate (a rules file names a few). */
const MAX_REMEMBERED = 1_000;

/** What a new build of one header reaches: the routes with the header, and how far back purges must reach. */
export interface BuildScope {
  routes: readonly string[];
  horizonMs: number;
}

interface BuildSighting extends BuildScope {
  header: string;
  value: string;
}

export interface BuildWatch {
  /** An origin answer carried `value` in `header`; `scope` is asked for only when the coordinator is; the work runs in `background`. */
  seen(header: string, value: string, scope: () => BuildScope, background: (p: Promise<unknown>) => void): void;
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

  const note = (header: string, record: BuildRecord) => remember(known, header, record, MAX_REMEMBERED);

  async function ask(s: BuildSighting): Promise<void> {
    const before = known.get(s.header) ?? null;
    try {
      const call = options.coordinator().recordBuild({ site: options.site, header: s.header, value: s.value, routes: s.routes, at: clock.now(), horizonMs: s.horizonMs });
      const answer = await answerWithin(clock, COORDINATOR_WRITE_TIMEOUT_MS, call);
      let record = nextBuild(before, answer.value, clock.now()).record;
      // The coordinator took the value for an old server's: not asked again while that holds.
      if (answer.value !== s.value) record = { ...record, recent: [{ value: s.value, until: clock.now() + FLAP_MS }, ...record.recent].slice(0, 8) };
      note(s.header, record);
      if (answer.changed) options.purges.applyLocal({ kind: "routes", values: s.routes }, true, answer.at);
    } catch (err) {
      options.log({ msg: "coordinator-unavailable", part: "build", error: err instanceof Error ? err.message : String(err) });
      // Judged here alone, by the same rule: a first value is no change.
      const { record, changed } = nextBuild(before, s.value, clock.now());
      note(s.header, record);
      if (changed) options.purges.applyLocal({ kind: "routes", values: s.routes }, true, clock.now());
    }
  }

  return {
    seen(header, value, scope, background) {
      const record = known.get(header);
      const now = clock.now();
      if (record && (record.value === value || record.recent.some((r) => r.value === value && r.until > now))) return;
      if (asking.has(header)) return;
      asking.add(header);
      background(ask({ header, value, ...scope() }).finally(() => asking.delete(header)));
    },
  };
}

/** The routes of `rules` that name `header` as their build header. */
export function buildRoutes(routes: readonly { name: string; buildHeader: string | null }[], header: string): string[] {
  return routes.filter((r) => r.buildHeader === header).map((r) => r.name);
}
