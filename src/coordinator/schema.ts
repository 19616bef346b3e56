import { PURGE_TABLES } from "../purge/log";
import { STATS_SQL } from "../stats/coordinator";
import { RULES_TABLES } from "../rules/versions";
import { BUILD_TABLES } from "../builds/coordinator";

/**
 * The coordinator's SQLite tables. Each feature that keeps state in the coordinator
 * lists its own statements here under a name; they run once per object, in order,
 * inside `blockConcurrencyWhile`, so no method ever sees a table that is not there.
 * Statements must be idempotent (`CREATE ... IF NOT EXISTS`): a new feature adds an
 * entry, it never edits another's.
 */
export const COORDINATOR_TABLES: readonly { feature: string; sql: readonly string[] }[] = [
  {
    feature: "meta",
    sql: ["CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value)"],
  },
  { feature: "purges", sql: PURGE_TABLES },
  { feature: "stats", sql: STATS_SQL },
  { feature: "rules", sql: RULES_TABLES },
  { feature: "builds", sql: BUILD_TABLES },
];

export function migrate(sql: SqlStorage): void {
  for (const { sql: statements } of COORDINATOR_TABLES) for (const s of statements) sql.exec(s);
}
