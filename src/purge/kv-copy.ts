/**
 * The purges an isolate reads when the coordinator cannot be reached: the copy the
 * coordinator keeps in KV (`purge:v2:<site>`, the newest rows and a floor, written a
 * second after a change), else the records an older version kept (`purge:v1`). KV's
 * bounds apply (about 60 s to reach other locations).
 */
import { answerWithin, within, type Clock } from "../clock";
import { KV_READ_TIMEOUT_MS } from "../coordinator/timing";
import type { PurgeTable } from "./index-table";
import { purgeCopyKey, type PurgeCopyMeta } from "./log";
import { parsePurgeState, replayState } from "./records";

/** Where purges lived before the coordinator; still read when there is no copy yet. */
export const PURGE_KEY = "purge:v1";

/** Adds the KV copy to `table` (when newer than it) and returns it; rejects when KV cannot be read. */
export async function purgesFromKv(kv: KVNamespace, site: string, clock: Clock, table: PurgeTable): Promise<PurgeTable> {
  const got = kv.getWithMetadata<PurgeCopyMeta>(purgeCopyKey(site), { type: "arrayBuffer" });
  const copy = await answerWithin(clock, KV_READ_TIMEOUT_MS, got, "no answer from KV");
  if (copy.value && copy.metadata?.v === 2) {
    if (copy.metadata.sequence > table.sequence) {
      table.addRows(new Float64Array(copy.value));
      table.addEverything(...copy.metadata.everything);
      table.floor = Math.max(table.floor, copy.metadata.floor);
      table.sequence = copy.metadata.sequence;
    }
    return table;
  }
  // No copy yet: the records an older version kept in KV, if any.
  const text = await within(clock, KV_READ_TIMEOUT_MS, kv.get(PURGE_KEY, { type: "text" }), null);
  const state = text ? parsePurgeState(safeJson(text)) : null;
  if (state) replayState(state, table);
  return table;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
