/**
 * Reading and minimally editing a JSONC file (JSON with comments and trailing commas,
 * as wrangler.jsonc): one top-level member is replaced or added in place, and every
 * other byte, comments included, stays as it was.
 */

/** The text with comments blanked out (same length, newlines kept), so offsets still point into the original. */
function blankComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      out += " ".repeat(stop - i);
      i = stop - 1;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop - 1;
    } else out += c;
  }
  return out;
}

/** The offset just past the string literal that starts at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

/** Parses JSONC; throws SyntaxError like JSON.parse. */
export function parseJsonc(text: string): unknown {
  const plain = blankComments(text);
  let out = "";
  for (let i = 0; i < plain.length; i++) {
    const c = plain[i]!;
    if (c === '"') {
      const end = stringEnd(plain, i);
      out += plain.slice(i, end);
      i = end - 1;
    } else if (c === "," && /^\s*[}\]]/.test(plain.slice(i + 1))) out += " ";
    else out += c;
  }
  return JSON.parse(out);
}

/** Where the value of the root object's member `key` lies, or null; the text must parse. */
function memberValueSpan(plain: string, key: string): { start: number; end: number } | null {
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < plain.length; i++) {
    const c = plain[i]!;
    if (c === '"') {
      const end = stringEnd(plain, i);
      if (depth === 1 && expectKey) {
        const start = skipSpace(plain, plain.indexOf(":", end) + 1);
        const span = { start, end: valueEnd(plain, start) };
        if (JSON.parse(plain.slice(i, end)) === key) return span;
        // Another member: its value is skipped whole, so nothing inside it is read as a key.
        i = span.end - 1;
        expectKey = false;
        continue;
      }
      i = end - 1;
    } else if (c === "{" || c === "[") {
      depth++;
      expectKey = depth === 1;
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return null;
}

function skipSpace(plain: string, at: number): number {
  while (at < plain.length && /\s/.test(plain[at]!)) at++;
  return at;
}

/** The offset just past the JSON value that starts at `start`. */
function valueEnd(plain: string, start: number): number {
  const first = plain[start];
  if (first === '"') return stringEnd(plain, start);
  if (first !== "{" && first !== "[") return start + /^[^,}\]\s]*/.exec(plain.slice(start))![0].length;
  let depth = 0;
  for (let i = start; i < plain.length; i++) {
    const c = plain[i]!;
    if (c === '"') i = stringEnd(plain, i) - 1;
    else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) return i + 1;
  }
  return plain.length;
}

/**
 * The text with the root member `key` set to `json` (already serialized): its value
 * replaced where it is; else written in place of a commented-out example of it
 * (`// "key": ...` on a line of its own, as wrangler.jsonc ships); else added last.
 */
export function setRootMember(text: string, key: string, json: string): string {
  const plain = blankComments(text);
  const span = memberValueSpan(plain, key);
  if (span) return text.slice(0, span.start) + json + text.slice(span.end);
  const member = `${JSON.stringify(key)}: ${json}`;
  const example = new RegExp(`^([ \\t]*)//[ \\t]*${escapeRegExp(JSON.stringify(key))}[ \\t]*:.*$`, "m").exec(text);
  // Only an example at the root's own level, before its closing brace.
  const close = plain.lastIndexOf("}");
  if (example && example.index < close && depthAt(plain, example.index) === 1) {
    return withCommaBefore(text, plain, example.index) + `${example[1]}${member},` + text.slice(example.index + example[0].length);
  }
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
  const before = withCommaBefore(text, plain, close);
  return `${before.replace(/[ \t]*$/, "")}${before.endsWith("\n") ? "" : "\n"}${indent}${member}\n${text.slice(close)}`;
}

/** The text up to `at`, with a comma after the last value before it when one is needed. */
function withCommaBefore(text: string, plain: string, at: number): string {
  const last = plain.slice(0, at).trimEnd();
  const c = last[last.length - 1];
  if (c === "," || c === "{") return text.slice(0, at);
  return `${text.slice(0, last.length)},${text.slice(last.length, at)}`;
}

function depthAt(plain: string, at: number): number {
  let depth = 0;
  for (let i = 0; i < at; i++) {
    const c = plain[i]!;
    if (c === '"') i = stringEnd(plain, i) - 1;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return depth;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
