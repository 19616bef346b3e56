/**
 * One isolate's copy of the site's shared state: the purge table (builds are purges)
 * and the rules known, kept in one snapshot (src/coordinator/snapshot.ts) and
 * refreshed by one call (`Coordinator.since`), asked once per location.
 *
 * A refresh, in order:
 *   1. the location's copy (src/coordinator/location-copy.ts), when it is newer than
 *      this isolate's and younger than the bound: taken as it is. Younger than the
 *      refresh interval, that is the refresh; and a new isolate serves its first
 *      request from it at once, whatever its age within the bound.
 *   2. else, unless another isolate of the location holds the ask (its lease) while
 *      this copy is within the bound (with none yet, this isolate waits for the copy
 *      that one writes, until its lease ends): the coordinator, asked by this isolate,
 *      which then writes the location's copy at once, stamped with when it asked.
 *   3. the coordinator failing (an error, or no answer in 1 s; 2.5 s for a cold load): the coordinator's KV
 *      copies, purges and rules, logged once per outage; an isolate never moves to a
 *      lower rules sequence than it serves.
 * So the coordinator sees about one call per location per refresh interval, whatever
 * the isolates, and the bound holds: no isolate serves state older than `BOUND_MS`
 * (counted from the call it came from) without first waiting up to `WAIT_MS`.
 */
import { answerWithin, type Clock } from "../clock";
import { PurgeTable } from "../purge/index-table";
import { purgesFromKv } from "../purge/kv-copy";
import { rulesFromKv, type RulesKnown } from "../rules/kv-copy";
import type { IsolateReport, RulesSeed } from "../rules/versions";
import type { CoordinatorApi } from "./client";
import type { LocationCopy, LocationStore } from "./location-copy";

type Lease = { holder: string; until: number };
import type { SiteDelta } from "./since";
import { createSnapshot } from "./snapshot";
import { BOUND_MS, COLD_LOAD_TIMEOUT_MS, COORDINATOR_TIMEOUT_MS, KV_READ_TIMEOUT_MS, LEASE_MS, REFRESH_MS, WAIT_MS } from "./timing";

/** How often an isolate drops purge rows past the horizon. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** While another isolate holds the location's ask, look again this often (not on every request). */
const RECHECK_MS = 100;
/** How long a claim of the location's ask must stand before the isolate that made it asks. */
const CLAIM_MS = 50;

export interface SiteView {
  purges: PurgeTable;
  rules: RulesKnown;
  /** When this state was current: when the coordinator call it came from was sent (ms). */
  asOf: number;
}

export interface SiteState {
  /** The state to use now; never rejects. `background` keeps a refresh alive past the request (ctx.waitUntil). */
  get(background?: (p: Promise<unknown>) => void): Promise<SiteView>;
  /**
   * This isolate's own write, at once (a purge it recorded, an upload it took): no load
   * begun earlier undoes it. The location's copy, which lacks it, is dropped, so the
   * next isolate of the location to look (a new one too) asks the coordinator.
   */
  change(apply: (view: SiteView) => void): Promise<void>;
  peek(): SiteView | null;
}

export interface SiteStateOptions {
  site: string;
  /** `request.cf.colo`, or the simulated location's name: what this isolate reports. */
  location: string;
  isolate: string;
  /** The site's coordinator; without one, KV is all there is. */
  coordinator?: () => CoordinatorApi;
  /** The location's copy; null: none (every isolate asks for itself). */
  copies: LocationStore | null;
  kv: KVNamespace;
  clock: Clock;
  log: (line: Record<string, unknown>) => void;
  /** The deployment's seed to offer once (rules/active.ts), or null. */
  seed(): Promise<RulesSeed | null>;
  /** What this isolate serves, for the coordinator's list. */
  report(known: RulesKnown | null): Pick<IsolateReport, "sequence" | "version" | "source">;
}

/**
 * Whether the coordinator's version `sequence` replaces what is known. The view is
 * changed in place (so this isolate's own purges, applied meanwhile, stay): a load
 * begun before this isolate's upload must not take it back, so rules only move up.
 */
const newer = (known: RulesKnown, sequence: number) => known.via !== "coordinator" || sequence > known.sequence;

const empty = (): SiteView => ({ purges: new PurgeTable(), rules: { sequence: 0, record: null, via: "deployed" }, asOf: 0 });

export function createSiteState(options: SiteStateOptions): SiteState {
  const { clock, log, copies, site } = options;
  let seeded = false;
  let down = false;
  let prunedAt = clock.now();
  let recheckAt = 0;
  /** When this isolate claimed its location's ask (see `load`), or null. */
  let claimedAt: number | null = null;

  function takeCopy(previous: SiteView | null, copy: LocationCopy): SiteView {
    const view = previous ?? empty();
    const p = copy.purges;
    // An asker that saw a coordinator with less than we have (its storage was reset): start again from it.
    if (p.sequence < view.purges.sequence) view.purges = new PurgeTable();
    if (p.sequence !== view.purges.sequence || p.rows.length > 0) {
      view.purges.addRows(p.rows);
      view.purges.addEverything(...p.everything);
      view.purges.floor = Math.max(view.purges.floor, p.floor);
      view.purges.sequence = p.sequence;
    }
    if (newer(view.rules, copy.rules.sequence)) view.rules = { sequence: copy.rules.sequence, record: copy.rules.record, via: "coordinator" };
    view.asOf = copy.at;
    return view;
  }

  function takeDelta(previous: SiteView | null, delta: SiteDelta, asOf: number): SiteView {
    const view = previous ?? empty();
    const d = delta.purges;
    if (d.sequence < view.purges.sequence) view.purges = new PurgeTable();
    const table = view.purges;
    table.addRows(d.rows);
    table.addEverything(d.everything.hard, d.everything.soft);
    table.floor = Math.max(table.floor, d.floor);
    table.sequence = d.sequence;
    if (clock.now() - prunedAt > PRUNE_EVERY_MS && d.horizonMs > 0) {
      table.prune(clock.now() - d.horizonMs);
      prunedAt = clock.now();
    }
    const r = delta.rules;
    if (r.latest && newer(view.rules, r.latest.sequence)) view.rules = { sequence: r.sequence, record: r.latest, via: "coordinator" };
    else if (r.sequence === 0 && view.rules.via !== "coordinator") view.rules = { sequence: 0, record: null, via: "coordinator" };
    view.asOf = asOf;
    return view;
  }

  async function ask(api: CoordinatorApi, previous: SiteView | null, seedId: string | null): Promise<SiteView> {
    const asked = clock.now();
    const rulesFrom = previous?.rules.via === "coordinator" ? previous.rules.sequence : 0;
    const seed = (await mustOffer(seedId)) ? await options.seed() : null;
    const report = { site, isolate: options.isolate, location: options.location, ...options.report(previous?.rules ?? null) };
    const call = api.since({ purges: previous?.purges.sequence ?? 0, rules: rulesFrom }, report, seed);
    const delta = await answerWithin(clock, previous?.asOf ? COORDINATOR_TIMEOUT_MS : COLD_LOAD_TIMEOUT_MS, call);
    // A coordinator that knows less than we saw has lost its storage: offer the seed again next time.
    seeded = seed !== null || (seeded && delta.rules.sequence >= rulesFrom);
    const view = takeDelta(previous, delta, asked);
    if (copies) {
      const purges = view.purges;
      await copies.write({
        at: asked,
        location: options.location,
        purges: { sequence: purges.sequence, everything: [purges.everything.hard, purges.everything.soft], floor: purges.floor, horizonMs: delta.purges.horizonMs, rows: purges.rows() },
        rules: { sequence: view.rules.sequence, record: view.rules.record, seedId: delta.rules.seedId },
      });
      // Done: the next to find the copy old need not wait out this ask's lease.
      await copies.take(options.isolate, asked);
    }
    return view;
  }

  async function fromKv(previous: SiteView | null): Promise<SiteView> {
    const view = previous ?? empty();
    const seed = await options.seed();
    const [purges, rules] = await Promise.all([
      purgesFromKv(options.kv, site, clock, view.purges).catch((err: unknown) => {
        log({ msg: "purge-state-read", fallback: "last-known", error: message(err) });
        return view.purges;
      }),
      rulesFromKv(options.kv, site, clock, seed?.id ?? null, previous?.rules ?? null).catch((err: unknown) => {
        log({ msg: "rules-kv-read", fallback: "last-known", error: message(err) });
        return view.rules;
      }),
    ]);
    view.purges = purges;
    // The copy trails the coordinator (its alarm, then KV's propagation): an older one
    // would take this isolate back in time, perhaps to the broken file just replaced.
    if (!previous || rules.sequence >= previous.rules.sequence) view.rules = rules;
    view.asOf = clock.now();
    return view;
  }

  /** True when this isolate's seed has not been offered and is not the one the coordinator runs from (`seedId`, when known). */
  async function mustOffer(seedId: string | null): Promise<boolean> {
    if (seeded) return false;
    const seed = await options.seed();
    if (seed === null || seed.id === seedId) seeded = true;
    return !seeded;
  }

  /** The location's copy once another isolate has written it, looked for every `RECHECK_MS` until `until`; null if none came. */
  async function copyBy(until: number): Promise<SiteView | null> {
    while (clock.now() < until) {
      await clock.timer(RECHECK_MS).fired;
      const copy = await copies!.read();
      if (copy && copy.at <= clock.now() && clock.now() - copy.at < BOUND_MS && !(await mustOffer(copy.rules.seedId))) return takeCopy(null, copy);
    }
    return null;
  }

  async function load(previous: SiteView | null): Promise<SiteView> {
    const now = clock.now();
    if (previous && now < recheckAt && now - previous.asOf < BOUND_MS) return previous;
    let view = previous;
    // Same sequences as ours: the copy's body is left unread (only its time matters then).
    const have = previous?.rules.via === "coordinator" ? { purges: previous.purges.sequence, rules: previous.rules.sequence } : undefined;
    const copy = copies && (await copies.read(have));
    let offer = false;
    // A copy stamped later than now was written by another clock: it dates nothing, it reads as none.
    if (copy && copy.at <= now && now - copy.at < BOUND_MS && copy.at > (previous?.asOf ?? -Infinity)) {
      view = takeCopy(previous, copy);
      offer = await mustOffer(copy.rules.seedId);
      if (!offer && now - copy.at < REFRESH_MS) return view;
      // The first request of an isolate never waits for the coordinator when its location has a copy;
      // a seed still to offer makes the next request refresh, behind it.
      if (!previous) {
        if (offer) view.asOf = Math.min(view.asOf, now - REFRESH_MS);
        return view;
      }
    }
    if (!options.coordinator) return fromKv(view);
    if (copies && !offer) {
      const other = (lease: Lease | null) => lease !== null && lease.holder !== options.isolate && lease.until > now && lease.until <= now + LEASE_MS;
      let lease = await copies.lease();
      const within = view !== null && now - view.asOf < BOUND_MS;
      const confirmed = lease?.holder === options.isolate && claimedAt !== null && now - claimedAt >= CLAIM_MS && lease.until > now;
      if (!other(lease) && within && lease !== null && lease.holder !== options.isolate && !confirmed) {
        // Others of the location ask too (the last lease was theirs): claim the ask and make it at a
        // later look only if the claim still stands then. Isolates whose requests arrive together
        // all claim; the last write wins, and the others see it when they look again.
        await copies.take(options.isolate, now + LEASE_MS);
        claimedAt = now;
        recheckAt = now + CLAIM_MS;
        return view!;
      }
      if (!other(lease) && !confirmed) {
        await copies.take(options.isolate, now + LEASE_MS);
        // The last write wins: an isolate that took it just after us asks, not we.
        lease = await copies.lease();
      }
      if (other(lease)) {
        // Another isolate of the location is asking: leave it the call while what we have is
        // within the bound, or, with nothing yet, wait for the copy it writes (until its lease ends).
        if (within) {
          recheckAt = now + RECHECK_MS;
          return view!;
        }
        if (!view) {
          const got = await copyBy(lease!.until);
          if (got) return got;
        }
      }
    }
    claimedAt = null;
    try {
      const got = await ask(options.coordinator(), view, copy?.rules.seedId ?? null);
      down = false;
      return got;
    } catch (err) {
      if (!down) log({ msg: "coordinator-unavailable", part: "state", fallback: "kv", error: message(err) });
      down = true;
      return fromKv(view);
    }
  }

  const snapshot = createSnapshot<SiteView>({
    clock,
    load,
    initial: empty,
    refreshMs: REFRESH_MS,
    boundMs: BOUND_MS,
    waitMs: WAIT_MS,
    // Another isolate's ask (its lease), a cold load's timeout, then both KV copies (side by side, each maybe after its older key).
    firstWaitMs: LEASE_MS + COLD_LOAD_TIMEOUT_MS + 2 * KV_READ_TIMEOUT_MS + 100,
    asOf: (view) => view.asOf,
  });

  return {
    get: (background) => snapshot.get(background),
    async change(apply) {
      const view = snapshot.peek() ?? empty();
      apply(view);
      snapshot.set(view);
      await copies?.drop();
    },
    peek: () => snapshot.peek(),
  };
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
