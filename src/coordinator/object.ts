/**
 * The coordinator: one SQLite-backed Durable Object per site, the single writer of
 * the site's shared state. Every method is a Durable Object RPC method that hands
 * its work to a small module (src/coordinator/*, or a feature's own folder); this
 * class only owns the storage, the schema and the alarm. Durable Objects run one
 * method's synchronous SQL at a time, so each method is serialized for free: no
 * locks, no compare-and-set.
 */
import { DurableObject } from "cloudflare:workers";
import type { WorkerEnv } from "../env";
import { migrate } from "./schema";

export class Coordinator extends DurableObject<WorkerEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: WorkerEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => migrate(this.sql));
  }

  /** The coordinator's clock (ms since epoch): what callers may compare their own against. */
  async time(): Promise<number> {
    return Date.now();
  }
}
