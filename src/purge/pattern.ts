/**
 * Regular expressions for `X-Purge-Method: regex`, matched in linear time. A purge
 * pattern is checked against stored entries' URLs on lookups, so a pattern written to
 * be slow (`(a+)+$`, catastrophic backtracking in a backtracking engine like the
 * runtime's) must not cost more than a plain one. So patterns are compiled here to a
 * small program and run as a Thompson NFA (a Pike VM): the cost is at most the
 * program's length times the URL's, whatever the pattern. Pure.
 *
 * The syntax is the common subset Varnish-speaking plugins send: literals, `.`,
 * `[...]`/`[^...]`, `\d \w \s` and escaped punctuation, `* + ? {n} {n,} {n,m}` (lazy
 * `?` suffixes accepted: only whether it matches counts), `( )`, `(?: )`, `|`, `^`, `$`.
 * No backreferences or lookaround (they cannot run in linear time).
 */

/** Longest pattern accepted. */
export const MAX_PATTERN_LENGTH = 256;
/** Most program instructions, after `{n,m}` expansion: bounds the work per URL character. */
const MAX_PROGRAM = 2048;
/** Largest count in `{n,m}`. */
const MAX_REPEAT = 64;

type Test = (c: string) => boolean;
type Node =
  | { t: "char"; test: Test }
  | { t: "seq"; items: Node[] }
  | { t: "alt"; items: Node[] }
  | { t: "star" | "plus" | "opt"; node: Node }
  | { t: "bol" | "eol" };
type Op =
  | { op: "char"; test: Test }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "bol" | "eol" | "match" };

export type CompiledPattern = { ok: true; program: readonly Op[] } | { ok: false; message: string };

class PatternError extends Error {}

/** Compiles a pattern, or says what in it is not accepted. */
export function compilePattern(source: string): CompiledPattern {
  if (source.length === 0) return { ok: false, message: "the pattern is empty" };
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, message: `the pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  try {
    const parser = new Parser(source);
    const ast = parser.alternation();
    if (parser.i < source.length) throw new PatternError(`unmatched ")" at ${parser.i}`);
    const program: Op[] = [];
    emit(ast, program);
    program.push({ op: "match" });
    return { ok: true, program };
  } catch (err) {
    if (err instanceof PatternError) return { ok: false, message: err.message };
    throw err;
  }
}

/** Whether the pattern matches anywhere in `subject` (as `RegExp.prototype.test`, unanchored). */
export function patternMatches(program: readonly Op[], subject: string): boolean {
  const seen = new Int32Array(program.length).fill(-1);
  let current: number[] = [];
  let gen = 0;
  const add = (list: number[], pc: number, pos: number): void => {
    if (seen[pc] === gen) return;
    seen[pc] = gen;
    const o = program[pc]!;
    if (o.op === "jmp") add(list, o.x, pos);
    else if (o.op === "split") {
      add(list, o.x, pos);
      add(list, o.y, pos);
    } else if (o.op === "bol") {
      if (pos === 0) add(list, pc + 1, pos);
    } else if (o.op === "eol") {
      if (pos === subject.length) add(list, pc + 1, pos);
    } else list.push(pc);
  };
  for (let pos = 0; ; pos++) {
    add(current, 0, pos);
    if (current.some((pc) => program[pc]!.op === "match")) return true;
    if (pos === subject.length) return false;
    const c = subject[pos]!;
    const next: number[] = [];
    gen++;
    for (const pc of current) {
      const o = program[pc]!;
      if (o.op === "char" && o.test(c)) add(next, pc + 1, pos + 1);
    }
    current = next;
  }
}

function emit(node: Node, out: Op[]): void {
  if (out.length > MAX_PROGRAM) throw new PatternError(`the pattern expands to more than ${MAX_PROGRAM} steps; use fewer or smaller {n,m} counts`);
  switch (node.t) {
    case "char":
      out.push({ op: "char", test: node.test });
      return;
    case "bol":
    case "eol":
      out.push({ op: node.t });
      return;
    case "seq":
      for (const item of node.items) emit(item, out);
      return;
    case "alt": {
      const jumps: { op: "jmp"; x: number }[] = [];
      node.items.forEach((item, i) => {
        if (i === node.items.length - 1) return emit(item, out);
        const split = { op: "split" as const, x: out.length + 1, y: 0 };
        out.push(split);
        emit(item, out);
        const jmp = { op: "jmp" as const, x: 0 };
        jumps.push(jmp);
        out.push(jmp);
        split.y = out.length;
      });
      for (const j of jumps) j.x = out.length;
      return;
    }
    case "star": {
      const start = out.length;
      const split = { op: "split" as const, x: start + 1, y: 0 };
      out.push(split);
      emit(node.node, out);
      out.push({ op: "jmp", x: start });
      split.y = out.length;
      return;
    }
    case "plus": {
      const start = out.length;
      emit(node.node, out);
      out.push({ op: "split", x: start, y: out.length + 1 });
      return;
    }
    case "opt": {
      const split = { op: "split" as const, x: out.length + 1, y: 0 };
      out.push(split);
      emit(node.node, out);
      split.y = out.length;
      return;
    }
    default:
      node satisfies never;
  }
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
