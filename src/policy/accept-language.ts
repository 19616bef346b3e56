/**
 * Accept-Language (RFC 9110 §12.5.4) read once and written in one canonical
 * spelling, so that requests which mean the same thing select the same variant
 * (RFC 9111 §4.1 allows a cache to normalize selecting values). Pure: usable
 * wherever the header is keyed, matched or rewritten.
 */

export interface LanguageRange {
  /** Lower-cased (language tags are case-insensitive, RFC 5646 §2.1.1); `*` for any. */
  tag: string;
  /** The weight (RFC 9110 §12.4.2), 0 to 1; 1 when none is given. */
  q: number;
}

/** language-range [ weight ] (RFC 4647 §2.1, RFC 9110 §12.4.2); OWS is allowed around `;` only. */
const RANGE = /^(\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)(?:[ \t]*;[ \t]*[qQ]=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?))?$/;

/** The ranges of a value, in the order written, or null when any member is malformed. */
export function parseAcceptLanguage(value: string): LanguageRange[] | null {
  const out: LanguageRange[] = [];
  for (const member of value.split(",")) {
    const item = member.trim();
    // RFC 9110 §5.6.1.2: empty list elements do not count.
    if (item === "") continue;
    const m = RANGE.exec(item);
    if (!m) return null;
    out.push({ tag: m[1]!.toLowerCase(), q: m[2] === undefined ? 1 : Number(m[2]) });
  }
  return out;
}

/**
 * The canonical spelling: tags lower-cased, by falling weight (the weight, not the
 * position, says what is preferred: §12.4.2), equal weights in tag order, a weight
 * of 1 left out and others in their shortest form, repeats dropped, `, ` between
 * members. Two values with the same preferences give the same string; null when the
 * value does not parse (the caller then keeps it as written, less list whitespace).
 */
export function normalizeAcceptLanguage(value: string): string | null {
  const ranges = parseAcceptLanguage(value);
  if (!ranges) return null;
  const members = new Set(
    ranges
      .sort((a, b) => b.q - a.q || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))
      .map((r) => (r.q === 1 ? r.tag : `${r.tag};q=${r.q}`)),
  );
  return [...members].join(", ");
}
