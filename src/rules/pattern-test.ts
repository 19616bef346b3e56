/**
 * A route's path or host pattern (URLPattern syntax) turned, once per rules version,
 * into a plain test of the URL's own component. `URLPattern.test` builds an input
 * object and canonicalizes it on every call; the URL's pathname and hostname are
 * already canonical, so one precompiled RegExp (or no test at all for `*`) decides
 * the same. Patterns beyond the common subset keep URLPattern, so the syntax and its
 * meaning stay exactly URLPattern's (test/unit/rules-match.test.ts compares both).
 */

/** Tests one canonical URL component (a pathname, or a hostname). */
export type ComponentTest = (value: string) => boolean;

type Component = "pathname" | "hostname";

/** Segment wildcards (`:name`) stop at the component's delimiter, as in URLPattern. */
const SEGMENT: Record<Component, string> = { pathname: "[^\\/]+?", hostname: "[^\\.]+?" };
const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*/;
/** The characters a `u` RegExp lets (and needs) us escape: its syntax characters. */
const REGEX_SPECIAL = /[.^$|+(){}[\]*?\\/]/g;

export function compileComponentTest(component: Component, source: string): ComponentTest {
  const pattern = new URLPattern({ [component]: source });
  // The pattern as URLPattern canonicalized it (literal parts percent-encoded or punycoded).
  const canonical = pattern[component];
  if (canonical === "*") return () => true;
  const re = toRegExp(canonical, component);
  if (re) return (value) => re.test(value);
  return component === "pathname" ? (value) => pattern.test({ pathname: value }) : (value) => pattern.test({ hostname: value });
}

/**
 * The RegExp URLPattern itself would generate, for patterns made of literal text, `*`,
 * `:name` and `(regex)` groups with no modifier after them: without a modifier a part's
 * prefix is plain literal text. Anything else (modifiers, `{}` groups, escapes, nested
 * groups) returns null and stays with URLPattern.
 */
function toRegExp(canonical: string, component: Component): RegExp | null {
  let out = "";
  let i = 0;
  while (i < canonical.length) {
    const ch = canonical[i]!;
    if (ch === "{" || ch === "}" || ch === "\\" || ch === "?" || ch === "+") return null;
    if (ch === "*") {
      out += ".*";
      i += 1;
    } else if (ch === ":") {
      const name = NAME.exec(canonical.slice(i + 1));
      if (!name) return null;
      i += 1 + name[0].length;
      // A regex right after the name is that part's own pattern.
      if (canonical[i] === "(") {
        const group = regexGroup(canonical, i);
        if (!group) return null;
        out += `(${group.body})`;
        i = group.end;
      } else {
        out += `(${SEGMENT[component]})`;
      }
    } else if (ch === "(") {
      const group = regexGroup(canonical, i);
      if (!group) return null;
      out += `(${group.body})`;
      i = group.end;
    } else {
      out += ch.replace(REGEX_SPECIAL, "\\$&");
      i += 1;
      continue;
    }
    // A modifier after a part changes how its prefix matches: leave that to URLPattern.
    const next = canonical[i];
    if (next === "?" || next === "+" || next === "*") return null;
  }
  try {
    return new RegExp(`^${out}$`, "u");
  } catch {
    return null;
  }
}

/** A `(...)` regex group without nesting, classes or escapes; `end` is past its `)`. */
function regexGroup(s: string, start: number): { body: string; end: number } | null {
  const close = s.indexOf(")", start + 1);
  if (close < 0) return null;
  const body = s.slice(start + 1, close);
  if (body === "" || /[()[\]\\]/.test(body) || body.startsWith("?")) return null;
  return { body, end: close + 1 };
}
