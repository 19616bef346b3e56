/**
 * The origin shield: one Durable Object per cache key (named from it), so every
 * isolate in every location that misses that key asks the same object, which asks
 * the origin once and answers every waiter (src/shield/flight.ts). The caller told
 * "leader" stores the answer in every tier its route allows (KV for the whole site),
 * the others in their own location's edge.
 *
 * After a flight, the shield holds a small shared answer for `SHIELD_HOLD_MS`: the
 * window in which another location may not see the leader's KV write yet (KV's
 * propagation, cached negative reads), so a late miss there costs no origin fetch.
 * Each answer names its generation; a caller that finds an answer unusable (purged
 * since, no longer fresh by its own rules, or fetched for a request whose store verdict
 * forbids keeping it) asks again naming it, and the shield starts a new generation,
 * which every caller that rejected the old one then joins.
 *
 * Workers reach it only through the RPC method `ask` (src/shield/protocol.ts): what
 * it is asked and what it answers are arguments and values, never headers a client
 * could send. Bodies cross as byte streams, so an encoded answer arrives exactly as
 * the origin sent it.
 */
import { DurableObject } from "cloudflare:workers";
import { systemClock } from "../clock";
import type { WorkerEnv } from "../env";
import { fetchOrigin } from "../http/origin";
import { Flight, type Head } from "./flight";
import { SHIELD_MAX_WAITERS, type AskedFor, type ShieldAnswer, type ShieldQuestion, type ShieldReply } from "./protocol";

/** How long an answer is held after its flight: KV's propagation window. */
export const SHIELD_HOLD_MS = 60_000;
/** Larger answers are not held (one per key, in the object's memory). */
export const SHIELD_HOLD_MAX_BODY = 1024 * 1024;

interface Shared {
  generation: number;
  sentAt: number;
  askedFor: AskedFor;
  status: number;
  statusText: string;
  headers: Headers;
  length: number | null;
}

interface Held extends Shared {
  chunks: Uint8Array[];
  until: number;
}

export class Shield extends DurableObject<WorkerEnv> {
  private flight: Flight | null = null;
  private held: Held | null = null;
  private generation = 0;

  async ask(question: ShieldQuestion): Promise<ShieldReply> {
    // The generation the caller could not use: nothing of it (or older) is given again.
    const rejected = question.reject ?? -1;
    const held = this.held;
    if (held && (held.until <= Date.now() || held.generation <= rejected)) this.held = null;
    else if (held) return answer(held, "held", new ReadableStream({ start: (c) => (held.chunks.forEach((b) => c.enqueue(b)), c.close()) }));
    if (this.flight && this.flight.generation <= rejected) this.flight = null;
    if (this.flight && this.flight.waiters >= SHIELD_MAX_WAITERS) return { refused: "overloaded" };
    const leader = this.flight === null;
    const flight = (this.flight ??= this.start(question));
    flight.waiters++;
    let head: Head;
    try {
      head = await flight.head;
    } catch {
      // The origin could not be reached: each caller tries it itself, with its own fallbacks.
      return { refused: "error" };
    }
    const from = { generation: flight.generation, sentAt: flight.sentAt, askedFor: flight.askedFor };
    if (!head.shared) {
      const { res } = head;
      return leader ? answer({ ...from, status: res.status, statusText: res.statusText, headers: res.headers, length: null }, "pass", res.body) : { refused: "unshared" };
    }
    return answer({ ...head, ...from }, leader ? "leader" : "follower", flight.body());
  }

  private start(question: ShieldQuestion): Flight {
    const headers = new Headers(question.headers);
    const askedFor = { authorized: headers.has("authorization"), cacheControl: headers.get("cache-control") };
    const sentAt = question.sentAt || Date.now();
    const url = new URL(question.origin);
    const res = fetchOrigin({ url, method: "GET", headers, body: null, timeoutMs: question.timeoutMs || 30_000 }, systemClock);
    const flight: Flight = new Flight(res, sentAt, ++this.generation, askedFor, () => {
      if (this.flight === flight) this.flight = null;
    });
    void this.holdAfter(flight);
    return flight;
  }

  /** Keeps a small, complete, shared answer for late callers; a newer generation replaces it. */
  private async holdAfter(flight: Flight): Promise<void> {
    const [head, chunks] = await Promise.all([flight.head.catch(() => null), flight.complete]);
    // A newer generation's answer may already be held.
    if (!head?.shared || chunks === null || (this.held !== null && this.held.generation > flight.generation)) return;
    const size = chunks.reduce((n, c) => n + c.byteLength, 0);
    if (size > SHIELD_HOLD_MAX_BODY) return;
    const { generation, sentAt, askedFor } = flight;
    this.held = { ...head, generation, sentAt, askedFor, length: size, chunks, until: Date.now() + SHIELD_HOLD_MS };
  }
}

/** A body of known length crosses as one (a FixedLengthStream), so the caller's Content-Length stays true. */
function answer(from: Shared, role: ShieldAnswer["role"], body: ReadableStream<Uint8Array> | null): ShieldAnswer {
  if (body && from.length !== null) {
    const fixed = new FixedLengthStream(from.length);
    void body.pipeTo(fixed.writable).catch(() => {});
    body = fixed.readable as ReadableStream<Uint8Array>;
  }
  const { status, statusText, sentAt, generation, askedFor } = from;
  return { role, status, statusText, headers: [...from.headers], body, sentAt, generation, askedFor };
}
