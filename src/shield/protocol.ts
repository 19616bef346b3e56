/**
 * What a Worker and the shield say to each other: the argument and the value of one
 * RPC method, `Shield.ask`. None of it travels in a header, so nothing a client
 * sends can stand for any part of it (ARCHITECTURE.md, invariant 4).
 */

/** One Worker's request to the shield of a key. */
export interface ShieldQuestion {
  /** The origin URL to fetch. */
  origin: string;
  /** The origin request's headers (policy/forwarding `originRequestHeaders`). */
  headers: [string, string][];
  /** How long to wait for the origin's response headers, ms. */
  timeoutMs: number;
  /** When the caller sends it (its clock, ms). */
  sentAt: number;
  /** The generation of an answer this caller could not use: nothing of it, or older, is given again. */
  reject?: number;
}

/**
 * What the store verdict reads of the request an answer was fetched for (RFC 9111
 * §3.5 Authorization, §5.2.1.5 its no-store): a caller takes another request's
 * answer only when the verdict allows storing it for that request too. The facts,
 * never the credentials themselves.
 */
export interface AskedFor {
  authorized: boolean;
  cacheControl: string | null;
}

/**
 * An answer: "leader" (this caller's flight: it stores in every tier), "follower"
 * (another caller's flight) or "held" (kept after its flight), both of which leave
 * KV to the leader, or "pass" (this caller's own answer, shared with nobody).
 * `sentAt` is when the flight's first caller sent its request (its clock);
 * `generation` names the flight.
 */
export interface ShieldAnswer {
  role: "leader" | "follower" | "held" | "pass";
  status: number;
  statusText: string;
  headers: [string, string][];
  /** The origin's bytes as it sent them (no encoding undone or applied). */
  body: ReadableStream<Uint8Array> | null;
  sentAt: number;
  generation: number;
  askedFor: AskedFor;
}

/** No answer: "unshared" (the flight's answer is its leader's alone), "overloaded", "error" (the origin could not be reached). */
export interface ShieldRefusal {
  refused: "unshared" | "overloaded" | "error";
}

export type ShieldReply = ShieldAnswer | ShieldRefusal;

/** Most requests one key's shield holds at once; past it, callers fetch for themselves. */
export const SHIELD_MAX_WAITERS = 1_000;
