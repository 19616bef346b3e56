/**
 * The HTTP-date parser (RFC 9110 §5.6.7): the three forms a recipient must accept,
 * in any letter case (RFC 9111 §4.2), and everything else refused.
 */
import { describe, expect, it } from "vitest";
import { parseHttpDate } from "../../src/policy/http-date";

const T = Date.UTC(1994, 10, 6, 8, 49, 37);
const NOW = Date.UTC(2026, 0, 1);

describe("parseHttpDate (RFC 9110 §5.6.7)", () => {
  it.each<[string, string, number]>([
    ["IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", T],
    ["obsolete RFC 850", "Sunday, 06-Nov-94 08:49:37 GMT", T],
    ["obsolete asctime", "Sun Nov  6 08:49:37 1994", T],
    ["asctime with a zero-padded day (2DIGIT)", "Sun Nov 06 08:49:37 1994", T],
    ["asctime with a two-digit day", "Thu Nov 10 08:49:37 1994", Date.UTC(1994, 10, 10, 8, 49, 37)],
    ["RFC 850: a year 50+ years ahead is in the past century", "Thursday, 01-Jan-77 00:00:00 GMT", Date.UTC(1977, 0, 1)],
    ["RFC 850: a year up to 50 years ahead is in this century", "Friday, 01-Jan-49 00:00:00 GMT", Date.UTC(2049, 0, 1)],
    ["a leap second", "Wed, 31 Dec 2008 23:59:60 GMT", Date.UTC(2008, 11, 31, 23, 59, 59)],
    ["29 February in a leap year", "Thu, 29 Feb 2024 00:00:00 GMT", Date.UTC(2024, 1, 29)],
    ["the epoch", "Thu, 01 Jan 1970 00:00:00 GMT", 0],
    // RFC 9111 §4.2: a cache matches dates case-insensitively.
    ["lower-case gmt", "Sun, 06 Nov 1994 08:49:37 gmt", T],
    ["a lower-case month", "Sun, 06 nov 1994 08:49:37 GMT", T],
    ["an upper-case day name", "SUN, 06 Nov 1994 08:49:37 GMT", T],
    ["an IMF-fixdate all in lower case", "sun, 06 nov 1994 08:49:37 gmt", T],
    ["mixed case (Gmt, nOV)", "sUn, 06 nOV 1994 08:49:37 Gmt", T],
    ["an RFC 850 date in upper case", "SUNDAY, 06-NOV-94 08:49:37 GMT", T],
    ["an asctime date in lower case", "sun nov  6 08:49:37 1994", T],
  ])("accepts %s", (_name, value, expected) => {
    expect(parseHttpDate(value, NOW)).toBe(expected);
  });

  it.each<[string, string | null]>([
    ["absent", null],
    ["empty", ""],
    ["a number", "0"],
    ["lower-case utc", "Sun, 06 Nov 1994 08:49:37 utc"],
    ["UTC instead of GMT", "Sun, 06 Nov 1994 08:49:37 UTC"],
    ["a numeric zone", "Sun, 06 Nov 1994 08:49:37 +0000"],
    ["no zone", "Sun, 06 Nov 1994 08:49:37"],
    ["a missing comma", "Sun 06 Nov 1994 08:49:37 GMT"],
    ["doubled spaces", "Sun, 06  Nov 1994 08:49:37 GMT"],
    ["a leading space", " Sun, 06 Nov 1994 08:49:37 GMT"],
    ["dashes in an IMF-fixdate", "Sun, 06-Nov-1994 08:49:37 GMT"],
    ["a one-digit hour", "Sun, 06 Nov 1994 8:49:37 GMT"],
    ["a one-digit day", "Sun, 6 Nov 1994 08:49:37 GMT"],
    ["a two-digit year in an IMF-fixdate", "Sun, 06 Nov 94 08:49:37 GMT"],
    ["a lower-case date with utc", "sun, 06 nov 1994 08:49:37 utc"],
    ["a lower-case date without its comma", "sun 06 nov 1994 08:49:37 gmt"],
    ["a lower-case month name that does not exist", "Sun, 06 noo 1994 08:49:37 GMT"],
    ["a long day name in an IMF-fixdate", "Sunday, 06 Nov 1994 08:49:37 GMT"],
    ["a short day name in RFC 850", "Sun, 06-Nov-94 08:49:37 GMT"],
    ["hour 24", "Sun, 06 Nov 1994 24:00:00 GMT"],
    ["minute 60", "Sun, 06 Nov 1994 08:60:00 GMT"],
    ["30 February", "Wed, 30 Feb 1994 08:49:37 GMT"],
    ["day 00", "Sun, 00 Nov 1994 08:49:37 GMT"],
    ["ISO 8601", "1994-11-06T08:49:37Z"],
    ["asctime with a one-digit day and one space", "Sun Nov 6 08:49:37 1994"],
    ["asctime with GMT", "Sun Nov  6 08:49:37 1994 GMT"],
    ["trailing text", "Sun, 06 Nov 1994 08:49:37 GMT, x"],
  ])("refuses %s", (_name, value) => {
    expect(parseHttpDate(value, NOW)).toBeNull();
  });
});
