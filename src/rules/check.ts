/**
 * The building blocks of validation: each checker looks at one JSON value, reports
 * what is wrong with it at its path, and never throws. Object shapes are tables of
 * checkers, so the table's keys are also the list of allowed field names (which the
 * JSON Schema test compares against the schema).
 */
import { TOKEN } from "../http/fields";
import { at, closest, jsonType, type Report } from "./report";

/** Validates one value found at `path`. */
export type Checker = (value: unknown, path: string, report: Report) => void;

/** The checkers of an object's fields, by field name. */
export type Shape = Readonly<Record<string, Checker>>;

interface ObjectOptions {
  /** What the object is, for the wrong-type message ("a route", "the ttl settings"). */
  what: string;
  required?: readonly string[];
  /** Hints for fields that belong elsewhere: `{ edge: 'put it inside "ttl": ...' }`. */
  misplaced?: Readonly<Record<string, string>>;
  /** Hint when the value is not an object at all (default: the field names). */
  wrongTypeHint?: (value: unknown) => string;
  /** Hint when a required field is missing, by field. */
  requiredHints?: Readonly<Record<string, string>>;
}

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks an object against `shape`: every unknown field, every present field, then every missing required one. */
export function checkObject(
  value: unknown,
  path: string,
  report: Report,
  shape: Shape,
  options: ObjectOptions,
): value is Record<string, unknown> {
  if (!isObject(value)) {
    report.error(path, `expected ${options.what} (an object), got ${jsonType(value)}`, options.wrongTypeHint?.(value) ?? objectHint(shape));
    return false;
  }
  for (const key of Object.keys(value)) {
    const check = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (check) check(value[key], at(path, key), report);
    else report.error(at(path, key), `unknown field "${key}"`, unknownFieldHint(key, shape, options));
  }
  for (const key of options.required ?? []) {
    if (!Object.hasOwn(value, key)) {
      const hint = options.requiredHints && Object.hasOwn(options.requiredHints, key) ? options.requiredHints[key] : undefined;
      report.error(at(path, key), `missing required field "${key}"`, hint ?? `add "${key}"`);
    }
  }
  return true;
}

function objectHint(shape: Shape): string {
  const fields = Object.keys(shape);
  return fields.length <= 6 ? `write it as { ... } with the fields ${fields.join(", ")}` : `write it as { "${fields[0]}": ..., ... }`;
}

function unknownFieldHint(key: string, shape: Shape, options: ObjectOptions): string {
  if (options.misplaced && Object.hasOwn(options.misplaced, key)) return options.misplaced[key]!;
  const allowed = Object.keys(shape);
  const guess = closest(key, allowed);
  if (guess !== null) return `did you mean "${guess}"?`;
  return `allowed fields here: ${allowed.join(", ")}`;
}

/** A whole number of seconds, at least `min`. */
export function seconds(min = 0): Checker {
  return (value, path, report) => {
    if (typeof value !== "number") {
      report.error(path, `expected a whole number of seconds, got ${jsonType(value)}`, "write seconds as a plain number, e.g. 3600 for an hour, 86400 for a day");
    } else if (!Number.isInteger(value)) {
      report.error(path, `must be a whole number of seconds, got ${value}`, `use ${Math.floor(value)} or ${Math.ceil(value)}`);
    } else if (value < min) {
      report.error(path, `must be at least ${min}, got ${value}`, min === 0 ? "use 0 to turn it off" : `use ${min} or more`);
    }
  };
}

/** A whole number, at least `min`. */
export function integer(min: number): Checker {
  return (value, path, report) => {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      report.error(path, `expected a whole number, got ${typeof value === "number" ? value : jsonType(value)}`, `write a whole number, at least ${min}`);
    } else if (value < min) {
      report.error(path, `must be at least ${min}, got ${value}`, `use ${min} or more`);
    }
  };
}

/** A number of seconds greater than 0 (fractions allowed). */
export const positiveSeconds: Checker = (value, path, report) => {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    report.error(path, `expected a number of seconds, got ${jsonType(value)}`, "write seconds as a plain number, e.g. 30");
  } else if (value <= 0) {
    report.error(path, `must be more than 0 seconds, got ${value}`, "e.g. 30; fractions such as 2.5 are allowed");
  }
};

export const bool: Checker = (value, path, report) => {
  if (typeof value !== "boolean") report.error(path, `expected true or false, got ${jsonType(value)}`, 'write true or false, without quotes');
};

/** One of a fixed set of strings. */
export function oneOf(choices: readonly string[], hint?: (value: unknown) => string | undefined): Checker {
  const list = choices.map((c) => `"${c}"`).join(", ");
  return (value, path, report) => {
    if (typeof value === "string" && choices.includes(value)) return;
    const shown = typeof value === "string" ? JSON.stringify(value) : jsonType(value);
    const guess = typeof value === "string" ? closest(value, choices) : null;
    report.error(path, `must be one of ${list}, got ${shown}`, hint?.(value) ?? (guess !== null ? `did you mean "${guess}"?` : `use one of ${list}`));
  };
}

/** Tests one string of a list; returns a [message, hint] pair when it is invalid. */
export type ItemTest = (item: string) => readonly [message: string, hint: string] | null;

/** A list of strings, each passing `test`. */
export function stringList(test: ItemTest, options: { nonEmpty?: readonly [message: string, hint: string] } = {}): Checker {
  return (value, path, report) => {
    if (!Array.isArray(value)) {
      const example = typeof value === "string" ? `[${JSON.stringify(value)}]` : '["..."]';
      report.error(path, `expected a list of strings, got ${jsonType(value)}`, `write a list in brackets, e.g. ${example}`);
      return;
    }
    if (value.length === 0 && options.nonEmpty) report.error(path, options.nonEmpty[0], options.nonEmpty[1]);
    value.forEach((item, i) => {
      if (typeof item !== "string") {
        report.error(at(path, i), `expected a string, got ${jsonType(item)}`, "put the value in double quotes");
        return;
      }
      const bad = test(item);
      if (bad) report.error(at(path, i), bad[0], bad[1]);
    });
  };
}

// RFC 9110 §5.6.2 token characters: header names, methods and cookie names are tokens.
const TOKEN_HINT = "use letters, digits and !#$%&'*+-.^_`|~ only, without spaces, colons or quotes";

/** A header name (RFC 9110 token). */
export const headerName: ItemTest = (s) =>
  s === "" ? ["header name is empty", "remove the empty string or write a header name such as \"authorization\""]
  : TOKEN.test(s) ? null : [`${JSON.stringify(s)} is not a valid header name`, s.includes(":") ? "write the name alone, without a colon or value" : TOKEN_HINT];

/** A method name (RFC 9110 token). */
export const methodName: ItemTest = (s) =>
  TOKEN.test(s) ? null : [`${JSON.stringify(s)} is not a valid method`, "write a method such as GET, HEAD or POST"];

/** A cookie name (RFC 6265 token). */
export const cookieName: ItemTest = (s) =>
  TOKEN.test(s) ? null : [`${JSON.stringify(s)} is not a valid cookie name`, TOKEN_HINT];

/** A cookie-name glob: a token that may also hold `?` (`*` is already a token character). */
export const cookieGlob: ItemTest = (s) =>
  TOKEN.test(s.replaceAll("?", "x")) ? null : [`${JSON.stringify(s)} is not a valid cookie name pattern`, `${TOKEN_HINT}; * and ? are wildcards`];

/** A query-parameter-name glob: any non-empty string. */
export const queryGlob: ItemTest = (s) =>
  s === "" ? ["query parameter name is empty", "remove the empty string or write a name such as \"utm_*\""] : null;
