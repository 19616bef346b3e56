/**
 * The origin shield: one Durable Object per cache key (named from it), so every
 * isolate in every location that misses that key asks the same object, which asks
 * the origin once and answers every waiter (src/shield/flight.ts). It stores
 * nothing itself: the caller told "leader" stores the answer in every tier its
 * route allows (KV for the whole site), the others in their own location's edge.
 */
import { DurableObject } from "cloudflare:workers";
import { systemClock } from "../clock";
import type { WorkerEnv } from "../env";
import { fetchOrigin } from "../http/origin";
import { Flight } from "./flight";
import { SHIELD_MAX_WAITERS, SHIELD_ORIGIN, SHIELD_ROLE, SHIELD_SENT, SHIELD_TIMEOUT } from "./protocol";

const tell = (role: string, status = 204) => new Response(null, { status, headers: { [SHIELD_ROLE]: role } });

export class Shield extends DurableObject<WorkerEnv> {
  private flight: Flight | null = null;

  override async fetch(request: Request): Promise<Response> {
    const target = request.headers.get(SHIELD_ORIGIN);
    if (!target) return tell("error", 400);
    if (this.flight && this.flight.waiters >= SHIELD_MAX_WAITERS) return tell("overloaded", 503);
    const leader = this.flight === null;
    const flight = (this.flight ??= this.start(target, request.headers));
    flight.waiters++;
    let head;
    try {
      head = await flight.head;
    } catch {
      // The origin could not be reached: each caller tries it itself, with its own fallbacks.
      return tell("error", 502);
    }
    if (!head.shared) return leader ? withRole(head.res, "pass") : tell("pass");
    const headers = new Headers(head.headers);
    headers.set(SHIELD_ROLE, leader ? "leader" : "follower");
    headers.set(SHIELD_SENT, String(flight.sentAt));
    let body = flight.body();
    if (head.length !== null) {
      const fixed = new FixedLengthStream(head.length);
      void body.pipeTo(fixed.writable).catch(() => {});
      body = fixed.readable as ReadableStream<Uint8Array>;
    }
    return new Response(body, { status: head.status, headers });
  }

  private start(target: string, incoming: Headers): Flight {
    const headers = new Headers(incoming);
    const timeoutMs = Number(headers.get(SHIELD_TIMEOUT)) || 30_000;
    const sentAt = Number(headers.get(SHIELD_SENT)) || Date.now();
    headers.delete(SHIELD_ORIGIN);
    headers.delete(SHIELD_TIMEOUT);
    headers.delete(SHIELD_SENT);
    const answer = fetchOrigin({ url: new URL(target), method: "GET", headers, body: null, timeoutMs }, systemClock);
    const flight: Flight = new Flight(answer, sentAt, () => {
      if (this.flight === flight) this.flight = null;
    });
    return flight;
  }
}

function withRole(res: Response, role: string): Response {
  const headers = new Headers(res.headers);
  headers.set(SHIELD_ROLE, role);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
