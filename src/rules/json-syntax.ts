/**
 * Locating a JSON syntax error: engines word `JSON.parse` errors differently and
 * some give no position at all, so after a failed parse this small scanner finds
 * the first offending offset and says what was expected there, the same everywhere.
 */

/** Where `text` stops being JSON and what was expected there; null when it is valid JSON. */
interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  expected: string;
  /** How to fix it, from what is at and before the spot. */
  hint: string;
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
      if (c === 0x0a || c === 0x0d) fail('a closing " before the end of the line');
      if (c < 0x20) fail("no control characters inside a string");
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
    return { offset: e.offset, line, column: e.offset - before.lastIndexOf("\n"), expected: e.expected, hint: hintFor(text, e) };
  }
}

function hintFor(text: string, stop: Stop): string {
  const rest = text.slice(stop.offset);
  const afterComma = /,\s*$/.test(text.slice(0, stop.offset));
  if (rest.startsWith("//") || rest.startsWith("/*")) return "JSON has no comments: remove them";
  if (rest.startsWith("'")) return "JSON strings and field names use double quotes";
  if (afterComma && /^[}\]]/.test(rest)) return "remove the comma before this closing bracket (JSON allows no trailing commas)";
  if (rest === "") return "the file ends too early: look for a missing }, ] or \"";
  if (stop.expected.startsWith('a closing " before')) return "a string cannot span lines: close it on the same line, or write \\n for a line break";
  if (stop.expected.startsWith("no control")) return "write tabs and other control characters as escapes, e.g. \\t";
  if (stop.expected.startsWith("a valid escape")) return "write a backslash inside a string as \\\\";
  if (stop.expected === "the end of the file") return "there is more after the last closing bracket: remove it or check the brackets";
  if (/^[A-Za-z_$]/.test(rest)) return stop.expected === "a value" ? "put strings in double quotes; the only bare words are true, false and null" : "put field names in double quotes";
  return "look just before this spot for a missing comma, colon, quote or bracket";
}
