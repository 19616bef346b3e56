/**
 * Collecting validation problems: a `Report` gathers every finding instead of
 * stopping at the first, and `at` builds the JSONPath-like locations they carry.
 */
import type { Problem } from "./types";

/** Accumulates problems in the order the validator meets them (document order). */
export class Report {
  readonly problems: Problem[] = [];

  error(path: string, message: string, hint?: string): void {
    this.problems.push(hint === undefined ? { severity: "error", path, message } : { severity: "error", path, message, hint });
  }

  warning(path: string, message: string, hint?: string): void {
    this.problems.push(hint === undefined ? { severity: "warning", path, message } : { severity: "warning", path, message, hint });
  }

  get errorCount(): number {
    let n = 0;
    for (const p of this.problems) if (p.severity === "error") n++;
    return n;
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path of `key` inside `path`: `$.routes[2]`, `$.defaults.ttl`, `$.defaults.status["404"]`. */
export function at(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** A JSON type name for messages: "null", "array", "object", "string", "number", "boolean". */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** The closest of `candidates` to `name` by edit distance, or null when none is close enough to be a typo. */
export function closest(name: string, candidates: readonly string[]): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // A third of the name, at least 2: catches "ttls" and "stalewhilerevalidate", not "foo" -> "ttl".
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) && bestDistance < name.length ? best : null;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
