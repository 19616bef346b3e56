/**
 * The origin shield: one Durable Object per cache key (named from it), so every
 * isolate in every location that misses that key asks the same object, which asks
 * the origin once. Filled in by src/shield/*.
 */
import { DurableObject } from "cloudflare:workers";
import type { WorkerEnv } from "../env";

export class Shield extends DurableObject<WorkerEnv> {}
