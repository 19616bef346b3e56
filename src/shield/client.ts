/**
 * Asking the shield: the Worker side. Any failure (an error, an overloaded shield,
 * no answer within the route's origin timeout) means "fetch it yourself": the
 * request goes on exactly as without a shield, and the failure is logged once.
 */
import { answerWithin, type Clock } from "../clock";
import { SHIELD_GENERATION, SHIELD_ORIGIN, SHIELD_REJECT, SHIELD_ROLE, SHIELD_SENT, SHIELD_TIMEOUT } from "./protocol";

/** What the Worker holds of a shield: its fetch (tests wrap it to inject faults, as with wrapKv). */
export interface ShieldStub {
  fetch(request: Request): Promise<Response>;
}
export type ShieldWrapper = (stub: ShieldStub) => ShieldStub;

/** How the shield answered: "leader" stores in every tier, "follower" in its own edge, "pass" is the origin's own answer. */
export type ShieldRole = "leader" | "follower" | "pass";

export interface ShieldAsk {
  url: URL;
  headers: Headers;
  timeoutMs: number;
  /** When this caller sends it (its clock, ms). */
  sentAt: number;
  /** The generation of an answer this caller could not use (see src/shield/object.ts). */
  reject?: number;
}

/**
 * `sentAt`: when the origin was asked for this answer (the flight's first caller; never
 * later than ours); `generation`: its flight; `held`: kept by the shield after its flight.
 */
export type ShieldClient = (
  key: string,
  ask: ShieldAsk,
) => Promise<{ res: Response; role: ShieldRole; sentAt: number; generation: number; held: boolean } | null>;

export function createShieldClient(options: {
  namespace: DurableObjectNamespace<import("./object").Shield>;
  wrap?: ShieldWrapper;
  clock: Clock;
  log(line: Record<string, unknown>): void;
}): ShieldClient {
  return async (key, ask) => {
    const headers = new Headers(ask.headers);
    headers.set(SHIELD_ORIGIN, ask.url.href);
    headers.set(SHIELD_TIMEOUT, String(ask.timeoutMs));
    headers.set(SHIELD_SENT, String(ask.sentAt));
    if (ask.reject !== undefined) headers.set(SHIELD_REJECT, String(ask.reject));
    let res: Response | null;
    try {
      const raw = options.namespace.get(options.namespace.idFromName(key)) as unknown as ShieldStub;
      const stub = options.wrap ? options.wrap(raw) : raw;
      res = await answerWithin(options.clock, ask.timeoutMs, stub.fetch(new Request("https://shield/", { headers })));
    } catch (err) {
      options.log({ msg: "shield-unavailable", fallback: "origin", error: err instanceof Error ? err.message : String(err) });
      return null;
    }
    const said = res.headers.get(SHIELD_ROLE);
    const held = said === "held";
    const role = held ? "follower" : said;
    if (role === "leader" || role === "follower" || (role === "pass" && res.status !== 204)) {
      const clean = new Headers(res.headers);
      const flightSent = Number(clean.get(SHIELD_SENT));
      const generation = Number(clean.get(SHIELD_GENERATION)) || 0;
      for (const name of [SHIELD_ROLE, SHIELD_SENT, SHIELD_GENERATION]) clean.delete(name);
      const sentAt = Number.isFinite(flightSent) && flightSent > 0 ? Math.min(flightSent, ask.sentAt) : ask.sentAt;
      return { res: new Response(res.body, { status: res.status, statusText: res.statusText, headers: clean }), role, sentAt, generation, held };
    }
    await res.body?.cancel();
    if (role === "overloaded" || role === "error") options.log({ msg: "shield-unavailable", fallback: "origin", error: role });
    return null;
  };
}
