/**
 * A stored response's fields as plain name/value pairs, edited in JavaScript. A hit's
 * delivery sets Age, Cache-Status and Accept-Ranges and reads a few validators; on a
 * runtime `Headers` each of those is a call into the runtime, and the Response then
 * copies the Headers again. Here they are array operations, and the Response
 * constructor reads the pairs once (ARCHITECTURE.md, "The hot path").
 */

/** What delivery needs of a header collection: `Headers` and `FieldList` both have it. */
export type Fields = Pick<Headers, "get" | "set" | "delete" | "append">;

export class FieldList implements Fields {
  /** Lower-cased names, in order; a name may repeat (Set-Cookie). */
  readonly pairs: [string, string][];

  constructor(pairs: readonly (readonly [string, string])[]) {
    this.pairs = pairs.map(([name, value]) => [name.toLowerCase(), value]);
  }

  /** As `Headers.get`: every value of `name`, joined with ", "; null when absent. Names are given lower-case. */
  get(name: string): string | null {
    let out: string | null = null;
    for (const [n, v] of this.pairs) if (n === name) out = out === null ? v : `${out}, ${v}`;
    return out;
  }

  set(name: string, value: string): void {
    this.delete(name);
    this.pairs.push([name, value]);
  }

  delete(name: string): void {
    let kept = 0;
    for (const pair of this.pairs) if (pair[0] !== name) this.pairs[kept++] = pair;
    this.pairs.length = kept;
  }

  append(name: string, value: string): void {
    this.pairs.push([name, value]);
  }
}

/**
 * What a Response's `headers` init takes, from either kind. A record when every name
 * is distinct: workerd converts a record about three times faster than a list of
 * pairs (6 µs against 18 µs for seven fields, measured), which is most of what a
 * hit's delivery costs. With a repeated name (Set-Cookie, which must not be joined,
 * RFC 9110 §5.3) the pairs themselves are the init.
 */
export function headersInit(fields: Fields): HeadersInit {
  if (!(fields instanceof FieldList)) return fields as Headers;
  // No prototype: a field named `__proto__` is an ordinary key here.
  const record: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of fields.pairs) {
    if (name in record) return fields.pairs;
    record[name] = value;
  }
  return record;
}
