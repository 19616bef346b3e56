/**
 * Asking the shield: the Worker side. Any failure (an error, an overloaded shield,
 * no answer within the route's origin timeout) means "fetch it yourself": the
 * request goes on exactly as without a shield, and the failure is logged once.
 */
import { answerWithin, type Clock } from "../clock";
import type { AskedFor, ShieldQuestion, ShieldReply } from "./protocol";

/** What the Worker holds of a shield: its RPC method (tests wrap it to inject faults, as with wrapKv). */
export interface ShieldStub {
  ask(question: ShieldQuestion): Promise<ShieldReply>;
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
 * later than ours); `generation`: its flight; `held`: kept by the shield after its flight;
 * `askedFor`: what the store verdict reads of the request it was fetched for.
 */
export type ShieldClient = (
  key: string,
  ask: ShieldAsk,
) => Promise<{ res: Response; role: ShieldRole; sentAt: number; generation: number; held: boolean; askedFor: AskedFor } | null>;

export function createShieldClient(options: {
  namespace: DurableObjectNamespace<import("./object").Shield>;
  wrap?: ShieldWrapper;
  clock: Clock;
  log(line: Record<string, unknown>): void;
}): ShieldClient {
  const unavailable = (error: string) => options.log({ msg: "shield-unavailable", fallback: "origin", error });
  return async (key, ask) => {
    const question: ShieldQuestion = { origin: ask.url.href, headers: [...ask.headers], timeoutMs: ask.timeoutMs, sentAt: ask.sentAt };
    if (ask.reject !== undefined) question.reject = ask.reject;
    let asked: Promise<ShieldReply> | undefined;
    let reply: ShieldReply;
    let res: Response;
    try {
      const raw = options.namespace.get(options.namespace.idFromName(key)) as unknown as ShieldStub;
      const stub = options.wrap ? options.wrap(raw) : raw;
      asked = stub.ask(question);
      reply = await answerWithin(options.clock, ask.timeoutMs, asked);
      if ("refused" in reply) {
        if (reply.refused !== "unshared") unavailable(reply.refused);
        return null;
      }
      // The origin's bytes as it sent them: an encoded body is neither decoded nor encoded again.
      res = new Response(reply.body, { status: reply.status, statusText: reply.statusText, headers: reply.headers, encodeBody: "manual" });
    } catch (err) {
      // An answer we cannot use, or one that comes after we gave up, is not read: release its body.
      void asked?.then((late) => ("body" in late ? late.body?.cancel() : undefined)).catch(() => {});
      unavailable(err instanceof Error ? err.message : String(err));
      return null;
    }
    const sentAt = Number.isFinite(reply.sentAt) && reply.sentAt > 0 ? Math.min(reply.sentAt, ask.sentAt) : ask.sentAt;
    const role = reply.role === "held" ? "follower" : reply.role;
    return { res, role, sentAt, generation: reply.generation, held: reply.role === "held", askedFor: reply.askedFor };
  };
}
