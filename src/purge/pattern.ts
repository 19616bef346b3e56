/**
 * Regular expressions for `X-Purge-Method: regex`, bounded in length and in cost.
 *
 * Purges are kept as records that every lookup checks (through the coordinator's
 * hashed table or the KV copy), and a regular expression can be neither hashed nor
 * run on every lookup at a bounded cost. So a pattern is checked here (length,
 * syntax) and purged as its literal prefix: the text before the first special
 * character of an anchored pattern (`^/blog/.*` -> `/blog/`), or the whole host for an
 * unanchored one (`/.*`, what Varnish plugins send to empty the cache). That purges
 * every URL the pattern matches and possibly more (a refetch), never less, and costs
 * one prefix record whatever the pattern. Pure.
 *
 * The accepted syntax is the common subset plugins send: literals, `.`, `[...]`,
 * `[^...]`, `\d \w \s` and escaped punctuation, `* + ? {n} {n,} {n,m}`, `( )`, `(?: )`,
 * `|`, `^`, `$`. Backreferences and lookaround are refused.
 */

/** Longest pattern accepted. */
export const MAX_PATTERN_LENGTH = 256;
/** Largest count in `{n,m}`. */
const MAX_REPEAT = 64;

type Test = (c: string) => boolean;
type Node = { t: "char"; test: Test } | { t: "seq"; items: Node[] } | { t: "alt"; items: Node[] } | { t: "star" | "plus" | "opt"; node: Node } | { t: "bol" | "eol" };

export type CheckedPattern = { ok: true; prefix: string } | { ok: false; message: string };

class PatternError extends Error {}

/** Checks a pattern and gives the literal path prefix every URL it matches starts with ("" = any). */
export function checkPattern(source: string): CheckedPattern {
  if (source.length === 0) return { ok: false, message: "the pattern is empty" };
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, message: `the pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  try {
    const parser = new Parser(source);
    parser.alternation();
    if (parser.i < source.length) throw new PatternError(`unmatched ")" at ${parser.i}`);
  } catch (err) {
    if (err instanceof PatternError) return { ok: false, message: err.message };
    throw err;
  }
  return { ok: true, prefix: literalPrefix(source) };
}

/** Whether `a|b` splits the whole pattern (outside groups and classes): then each branch is its own. */
function topLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}

/** The literal text after a leading `^`, up to the first special character; a quantified last character is dropped. */
function literalPrefix(source: string): string {
  if (!source.startsWith("^") || topLevelAlternation(source)) return "";
  let out = "";
  for (let i = 1; i < source.length; i++) {
    const c = source[i]!;
    if ("*+?{".includes(c)) return out.slice(0, -1);
    if (c === "\\" && i + 1 < source.length && !/[A-Za-z0-9]/.test(source[i + 1]!)) {
      if ("*+?{".includes(source[i + 2] ?? "")) return out;
      out += source[++i];
      continue;
    }
    if (".[()^$|\\".includes(c)) return out;
    out += c;
  }
  return out;
}

const DIGIT: Test = (c) => c >= "0" && c <= "9";
const WORD: Test = (c) => /\w/.test(c);
const SPACE: Test = (c) => /\s/.test(c);
const not = (t: Test): Test => (c) => !t(c);

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  alternation(): Node {
    const items = [this.sequence()];
    while (this.s[this.i] === "|") {
      this.i++;
      items.push(this.sequence());
    }
    return items.length === 1 ? items[0]! : { t: "alt", items };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.s.length && this.s[this.i] !== "|" && this.s[this.i] !== ")") items.push(this.quantified(this.atom()));
    return { t: "seq", items };
  }

  private atom(): Node {
    const c = this.s[this.i++]!;
    switch (c) {
      case "(": {
        if (this.s[this.i] === "?") {
          if (this.s[this.i + 1] !== ":") throw new PatternError("lookaround and named groups are not accepted; use ( ) or (?: )");
          this.i += 2;
        }
        const inner = this.alternation();
        if (this.s[this.i++] !== ")") throw new PatternError('a "(" has no ")"');
        return inner;
      }
      case "[":
        return this.charClass();
      case ".":
        return { t: "char", test: () => true };
      case "^":
        return { t: "bol" };
      case "$":
        return { t: "eol" };
      case "\\":
        return { t: "char", test: this.escape() };
      case "*":
      case "+":
      case "?":
      case "{":
        throw new PatternError(`"${c}" at ${this.i - 1} repeats nothing`);
      default:
        return { t: "char", test: (x) => x === c };
    }
  }

  private escape(): Test {
    const e = this.s[this.i++];
    if (e === undefined) throw new PatternError("the pattern ends with a lone \\");
    if (e === "d") return DIGIT;
    if (e === "D") return not(DIGIT);
    if (e === "w") return WORD;
    if (e === "W") return not(WORD);
    if (e === "s") return SPACE;
    if (e === "S") return not(SPACE);
    if (/[0-9]/.test(e) || e === "k") throw new PatternError("backreferences are not accepted");
    if (/[A-Za-z]/.test(e)) throw new PatternError(`\\${e} is not accepted; escape only punctuation, or use \\d \\w \\s`);
    return (x) => x === e;
  }

  private charClass(): Node {
    const negated = this.s[this.i] === "^";
    if (negated) this.i++;
    const tests: Test[] = [];
    let first = true;
    while (this.i < this.s.length && (this.s[this.i] !== "]" || first)) {
      first = false;
      const lo = this.s[this.i++]!;
      if (lo === "\\") {
        tests.push(this.escape());
        continue;
      }
      if (this.s[this.i] === "-" && this.s[this.i + 1] !== undefined && this.s[this.i + 1] !== "]") {
        const hi = this.s[this.i + 1]!;
        this.i += 2;
        if (hi < lo) throw new PatternError(`the range ${lo}-${hi} is backwards`);
        tests.push((x) => x >= lo && x <= hi);
      } else {
        tests.push((x) => x === lo);
      }
    }
    if (this.s[this.i++] !== "]") throw new PatternError('a "[" has no "]"');
    const test: Test = (x) => tests.some((t) => t(x));
    return { t: "char", test: negated ? not(test) : test };
  }

  private quantified(node: Node): Node {
    const q = this.s[this.i];
    let out: Node = node;
    if (q === "*" || q === "+" || q === "?") {
      this.i++;
      out = { t: q === "*" ? "star" : q === "+" ? "plus" : "opt", node };
    } else if (q === "{") {
      const m = /^\{(\d{1,3})(,(\d{0,3}))?\}/.exec(this.s.slice(this.i));
      if (!m) throw new PatternError(`"{" at ${this.i} is not a count such as {2} or {1,3}`);
      this.i += m[0].length;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === "" ? null : Number(m[3]);
      if (min > MAX_REPEAT || (max !== null && (max > MAX_REPEAT || max < min))) throw new PatternError(`counts go from 0 to ${MAX_REPEAT}, smallest first`);
      const items: Node[] = Array.from({ length: min }, () => node);
      if (max === null) items.push({ t: "star", node });
      else for (let k = min; k < max; k++) items.push({ t: "opt", node });
      out = { t: "seq", items };
    } else return node;
    if (this.s[this.i] === "?") this.i++;
    if ("*+?{".includes(this.s[this.i] ?? "_")) throw new PatternError(`a repeat of a repeat at ${this.i} is not accepted; write one quantifier`);
    return out;
  }
}
