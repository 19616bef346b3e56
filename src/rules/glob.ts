/**
 * Name globs for cookie, query-parameter and header names: `*` is any run of
 * characters, `?` exactly one, everything else literal. The whole list compiles to
 * one anchored RegExp so a test is a single native match, not a loop over globs.
 */
import type { NameMatcher } from "./types";

interface GlobOptions {
  /** Header names are case-insensitive (RFC 9110 §5.1); cookie and query names are not. */
  caseInsensitive?: boolean;
}

const NOTHING: NameMatcher = Object.freeze({ globs: Object.freeze([]), test: () => false });

/** Compiles `globs` into a matcher; an empty list matches no name. */
export function compileGlobs(globs: readonly string[], options: GlobOptions = {}): NameMatcher {
  if (globs.length === 0) return NOTHING;
  const source = globs.map(globToRegExpSource).join("|");
  const re = new RegExp(`^(?:${source})$`, options.caseInsensitive ? "is" : "s");
  const frozen = Object.freeze([...globs]);
  return Object.freeze({ globs: frozen, test: (name: string) => re.test(name) });
}

/** True when `glob` has a wildcard, i.e. it is more than one literal name. */
export function hasWildcard(glob: string): boolean {
  return glob.includes("*") || glob.includes("?");
}

function globToRegExpSource(glob: string): string {
  let out = "";
  for (const ch of glob) {
    if (ch === "*") out += ".*";
    else if (ch === "?") out += ".";
    else out += ch.replace(/[\\^$.|+()[\]{}*?/-]/g, "\\$&");
  }
  return out;
}
