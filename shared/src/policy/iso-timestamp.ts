import { type Issues, describeValue } from './shape-checks.js';

const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parser for the timestamps in policies and messages, RFC 3339 profile of ISO 8601:
 *
 *     2026-11-25T10:00:00Z    2026-11-25T10:00:00.123Z    2026-11-25T12:00:00+02:00
 *
 * Strict on purpose: date and time, upper-case `T`, seconds, and an explicit zone (`Z` or
 * ±hh:mm) are required, so "2026-11-25" or a local time without zone never becomes a guess
 * about when an exception expires. Dates are checked against the calendar (no February 30).
 * Pure arithmetic: no Date object, no runtime time zone. Returns milliseconds since the Unix
 * epoch (fractions past milliseconds are truncated), or null when the text is not a timestamp.
 */
export function parseIsoTimestamp(text: string): number | null {
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (
    year === undefined || month === undefined || day === undefined ||
    hour === undefined || minute === undefined || second === undefined
  ) {
    return null;
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] === undefined ? 0 : Number(`${m[7]}00`.slice(0, 3));
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return seconds * 1000 + millis;
}

export function readTimestamp(value: unknown, path: string, issues: Issues): string | undefined {
  if (typeof value === 'string' && value.length <= 64 && parseIsoTimestamp(value) !== null) return value;
  issues.add(path, `must be an ISO 8601 timestamp with a time zone, e.g. "2026-11-25T10:00:00Z" (got ${describeValue(value)})`);
  return undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
