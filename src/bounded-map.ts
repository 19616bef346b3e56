/**
 * The per-isolate memories (KV write times, hit counts, origin health, build records,
 * collapsing hints, isolate reports) are Maps kept in insertion order. An isolate
 * serves many requests for a long time, so each is bounded: setting a key makes it
 * the newest, and past `max` the oldest goes.
 */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
