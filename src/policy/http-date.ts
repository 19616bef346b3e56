/**
 * HTTP dates (RFC 9110 §5.6.7): the one parser for every date we read (Expires,
 * Date, Last-Modified, If-Modified-Since, If-Unmodified-Since, If-Range).
 * `Date.parse` accepts far more than HTTP allows (other zones, missing commas,
 * local times), and two caches that read the same bytes differently disagree on
 * freshness; so only the three grammars below are dates, everything else is not.
 * Their letters alone are matched in any case: "Although all date formats are
 * specified to be case-sensitive, a cache recipient SHOULD match the field value
 * case-insensitively" (RFC 9111 §4.2); `utc` is still not `GMT`.
 */

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].join("|");
const DAYS_LONG = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"].join("|");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = MONTHS.join("|");
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";

/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT` (the only form a sender may generate). */
const IMF_FIXDATE = new RegExp(`^(?:${DAYS}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`, "i");
/** Obsolete RFC 850 form: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850 = new RegExp(`^(?:${DAYS_LONG}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`, "i");
/** Obsolete asctime form: `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space). */
const ASCTIME = new RegExp(`^(?:${DAYS}) (${MONTH}) (\\d{2}| \\d) ${TIME} (\\d{4})$`, "i");

/**
 * Milliseconds since the epoch, or null when `value` is not an HTTP date. Names are
 * read in any letter case (RFC 9111 §4.2). `now` places RFC 850's two-digit years:
 * one that would be more than 50 years ahead is the latest past year with those digits.
 */
export function parseHttpDate(value: string | null | undefined, now = Date.now()): number | null {
  if (value == null) return null;
  let m = IMF_FIXDATE.exec(value);
  if (m) return build(Number(m[3]), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = RFC850.exec(value);
  if (m) {
    const nowYear = new Date(now).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(m[3]);
    if (year > nowYear + 50) year -= 100;
    return build(year, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME.exec(value);
  if (m) return build(Number(m[6]), m[1]!, m[2]!.trim(), m[3]!, m[4]!, m[5]!);
  return null;
}

function build(year: number, month: string, day: string, hh: string, mm: string, ss: string): number | null {
  const [d, h, mi, s] = [Number(day), Number(hh), Number(mm), Number(ss)];
  const mon = MONTHS.findIndex((m) => m.toLowerCase() === month.toLowerCase());
  // §5.6.7 allows a leap second (60); anything else out of range is not a date.
  if (h > 23 || mi > 59 || s > 60 || d < 1) return null;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: the latter reads years 0-99 as 1900-1999.
  date.setUTCFullYear(year, mon, d);
  // No 30 February: the day must exist in that month.
  if (date.getUTCDate() !== d) return null;
  return date.setUTCHours(h, mi, Math.min(s, 59));
}

/** `ms` as an IMF-fixdate, the form a sender generates (RFC 9110 §5.6.7). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
