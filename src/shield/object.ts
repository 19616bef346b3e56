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
 * since, or no longer fresh by its own rules) asks again naming it, and the shield
 * starts a new generation, which every caller that rejected the old one then joins.
 */
import { DurableObject } from "cloudflare:workers";
import { systemClock } from "../clock";
import type { WorkerEnv } from "../env";
import { fetchOrigin } from "../http/origin";
import { Flight, type Head } from "./flight";
import { SHIELD_GENERATION, SHIELD_MAX_WAITERS, SHIELD_ORIGIN, SHIELD_REJECT, SHIELD_ROLE, SHIELD_SENT, SHIELD_TIMEOUT } from "./protocol";

/** How long an answer is held after its flight: KV's propagation window. */
export const SHIELD_HOLD_MS = 60_000;
/** Larger answers are not held (one per key, in the object's memory). */
export const SHIELD_HOLD_MAX_BODY = 1024 * 1024;

interface Held {
  generation: number;
  sentAt: number;
  status: number;
  headers: Headers;
  length: number | null;
  chunks: Uint8Array[];
  until: number;
}

const tell = (role: string, status = 204) => new Response(null, { status, headers: { [SHIELD_ROLE]: role } });

export class Shield extends DurableObject<WorkerEnv> {
  private flight: Flight | null = null;
  private held: Held | null = null;
  private generation = 0;

  override async fetch(request: Request): Promise<Response> {
    const target = request.headers.get(SHIELD_ORIGIN);
    if (!target) return tell("error", 400);
    // The generation the caller could not use: nothing of it (or older) is given again.
    const rejected = Number(request.headers.get(SHIELD_REJECT) ?? -1);
    const held = this.held;
    if (held && (held.until <= Date.now() || held.generation <= rejected)) this.held = null;
    else if (held) return this.answer(held, "held", new ReadableStream({ start: (c) => (held.chunks.forEach((b) => c.enqueue(b)), c.close()) }));
    if (this.flight && this.flight.generation <= rejected) this.flight = null;
    if (this.flight && this.flight.waiters >= SHIELD_MAX_WAITERS) return tell("overloaded", 503);
    const leader = this.flight === null;
    const flight = (this.flight ??= this.start(target, request.headers));
    flight.waiters++;
    let head: Head;
    try {
      head = await flight.head;
    } catch {
      // The origin could not be reached: each caller tries it itself, with its own fallbacks.
      return tell("error", 502);
    }
    if (!head.shared) return leader ? withRole(head.res, "pass") : tell("pass");
    return this.answer({ ...head, generation: flight.generation, sentAt: flight.sentAt }, leader ? "leader" : "follower", flight.body());
  }

  private answer(
    from: { status: number; headers: Headers; length: number | null; generation: number; sentAt: number },
    role: string,
    body: ReadableStream<Uint8Array>,
  ): Response {
    const headers = new Headers(from.headers);
    headers.set(SHIELD_ROLE, role);
    headers.set(SHIELD_SENT, String(from.sentAt));
    headers.set(SHIELD_GENERATION, String(from.generation));
    if (from.length !== null) {
      const fixed = new FixedLengthStream(from.length);
      void body.pipeTo(fixed.writable).catch(() => {});
      body = fixed.readable as ReadableStream<Uint8Array>;
    }
    return new Response(body, { status: from.status, headers });
  }

  private start(target: string, incoming: Headers): Flight {
    const headers = new Headers(incoming);
    const timeoutMs = Number(headers.get(SHIELD_TIMEOUT)) || 30_000;
    const sentAt = Number(headers.get(SHIELD_SENT)) || Date.now();
    for (const name of [SHIELD_ORIGIN, SHIELD_TIMEOUT, SHIELD_SENT, SHIELD_REJECT]) headers.delete(name);
    const answer = fetchOrigin({ url: new URL(target), method: "GET", headers, body: null, timeoutMs }, systemClock);
    const flight: Flight = new Flight(answer, sentAt, ++this.generation, () => {
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
    this.held = { generation: flight.generation, sentAt: flight.sentAt, status: head.status, headers: head.headers, length: size, chunks, until: Date.now() + SHIELD_HOLD_MS };
  }
}

function withRole(res: Response, role: string): Response {
  const headers = new Headers(res.headers);
  headers.set(SHIELD_ROLE, role);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
