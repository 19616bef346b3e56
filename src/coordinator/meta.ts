/**
 * Small named values of the coordinator (sequence numbers, times) in its `meta`
 * table, which the schema creates first.
 */

/** A number kept in the `meta` table (0 when unset). */
export function metaNumber(sql: SqlStorage, name: string): number {
  const row = sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = ?", name).toArray()[0];
  return typeof row?.value === "number" ? row.value : 0;
}

/** A string kept in the `meta` table ("" when unset). */
export function metaText(sql: SqlStorage, name: string): string {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE name = ?", name).toArray()[0];
  return typeof row?.value === "string" ? row.value : "";
}

export function setMeta(sql: SqlStorage, name: string, value: number | string): void {
  sql.exec("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value);
}
