/**
 * What a Worker and the shield say to each other over the Durable Object's fetch:
 * the request carries the origin URL and the forwarded headers; the answer is the
 * origin's (status, headers, streamed body) plus one header that says what the
 * shield did.
 */
export const SHIELD_ORIGIN = "x-edge-cache-shield-origin";
export const SHIELD_TIMEOUT = "x-edge-cache-shield-timeout";
/**
 * On the request: when the caller sent it (its clock, ms). On the answer: when the
 * flight's first caller did. A caller that joins a running flight gets an answer the
 * origin was asked for earlier, and must date it so (purge cut-offs, RFC 9111 §4.2.3).
 */
export const SHIELD_SENT = "x-edge-cache-shield-sent";
/** On the answer: which flight of the key it came from (a number that only grows). */
export const SHIELD_GENERATION = "x-edge-cache-shield-generation";
/** On the request: the generation the caller found unusable; the shield answers from a newer one. */
export const SHIELD_REJECT = "x-edge-cache-shield-reject";
/** On the answer: "leader", "follower", "held" (a follower's answer from after its flight) (store in every tier), "follower" (another caller stores KV), "pass", "overloaded", "error". */
export const SHIELD_ROLE = "x-edge-cache-shield";
/** Most requests one key's shield holds at once; past it, callers fetch for themselves. */
export const SHIELD_MAX_WAITERS = 1_000;
