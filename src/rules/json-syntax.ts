/**
 * Locating a JSON syntax error: engines word `JSON.parse` errors differently and
 * some give no position at all, so after a failed parse this small scanner finds
 * the first offending offset and says what was expected there, the same everywhere.
 */

/** Where `text` stops being JSON and what was expected there; null when it is valid JSON. */
export interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  expected: string;
}

class Stop {
  constructor(readonly offset: number, readonly expected: string) {}
}

/** Scans `text` (call it only after `JSON.parse` failed); never throws. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const fail = (expected: string): never => {
    throw new Stop(i, expected);
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail("a value");
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('a closing "');
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail("no control characters (such as a line break) inside a string");
      if (c === 0x5c) {
        i++;
        if (text[i] === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else if (i < text.length && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail('a valid escape (\\", \\\\, \\n, \\uXXXX, ...)');
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "" || m[0] === "-") fail("a value");
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") return members("}", true);
    if (c === "[") return members("]", false);
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    fail("a value");
  };
  const members = (close: string, named: boolean) => {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      if (named) {
        ws();
        if (text[i] !== '"') fail("a field name in double quotes");
        string();
        ws();
        if (text[i] !== ":") fail('":"');
        i++;
      }
      value();
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === close) return void i++;
      else fail(`"," or "${close}"`);
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail("the end of the file");
    return null;
  } catch (e) {
    // A RangeError from absurd nesting leaves us without a position: say nothing rather than guess.
    if (!(e instanceof Stop)) return null;
    const before = text.slice(0, e.offset);
    const line = before.split("\n").length;
    return { offset: e.offset, line, column: e.offset - before.lastIndexOf("\n"), expected: e.expected };
  }
}
