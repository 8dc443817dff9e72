/**
 * Business-date arithmetic for loan schedules. A business date is a `YYYY-MM-DD` string read as a UTC calendar date;
 * nothing here looks at the clock or a time zone. Due dates count from the disbursement's business date, and one on
 * a non-working day (a weekend by default, or a `loan_holidays` date through `holidayCalendar`) moves to the next
 * working day.
 */
import type { RepaymentFrequency } from './loans.terms.ts';

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Whether a business date may carry a due date. */
export type WorkingDayTest = (date: string) => boolean;

/** Milliseconds since the epoch of a business date's UTC midnight; refuses text that is not a real date. */
function toEpochMs(date: string): number {
  const match = DATE_TEXT.exec(date);
  if (!match) throw new RangeError(`"${date}" is not a YYYY-MM-DD business date`);
  const [, y, m, d] = match;
  const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
  if (fromEpochMs(ms) !== date) throw new RangeError(`"${date}" is not a calendar date`);
  return ms;
}

function fromEpochMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Throws unless `date` is a real `YYYY-MM-DD` calendar date. */
export function assertBusinessDate(date: string): string {
  toEpochMs(date);
  return date;
}

/** date + n days (n may be negative). */
export function addDays(date: string, n: number): string {
  return fromEpochMs(toEpochMs(date) + n * DAY_MS);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((toEpochMs(to) - toEpochMs(from)) / DAY_MS);
}

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * date + n months on the same day of the month, clamped to the month's last day (Jan 31 + 1 → Feb 28/29, + 2 →
 * Mar 31). Always computed from the given date, so a clamp never drifts into later months.
 */
export function addMonths(date: string, n: number): string {
  const start = new Date(toEpochMs(date));
  const total = start.getUTCFullYear() * 12 + start.getUTCMonth() + n;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const day = Math.min(start.getUTCDate(), daysInMonth(year, month));
  return fromEpochMs(Date.UTC(year, month, day));
}

/** The n-th period boundary after `date` for a frequency (before any working-day adjustment). */
export function addPeriods(date: string, frequency: RepaymentFrequency, n: number): string {
  switch (frequency) {
    case 'daily':
      return addDays(date, n);
    case 'weekly':
      return addDays(date, 7 * n);
    case 'biweekly':
      return addDays(date, 14 * n);
    case 'monthly':
      return addMonths(date, n);
  }
}

/** Monday to Friday. */
export function isWeekday(date: string): boolean {
  const weekday = new Date(toEpochMs(date)).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** Weekdays that are not one of the holidays (`loan_holidays` dates). */
export function holidayCalendar(holidays: Iterable<string>): WorkingDayTest {
  const closed = new Set<string>();
  for (const day of holidays) closed.add(assertBusinessDate(day));
  return (date) => isWeekday(date) && !closed.has(date);
}

/** A year and a bit: a calendar with no working day that long is a configuration error, not something to wait out. */
const MAX_SKIP_DAYS = 400;

/** The date itself when it is a working day, else the first working day after it. */
export function nextWorkingDay(date: string, isWorkingDay: WorkingDayTest = isWeekday): string {
  let candidate = assertBusinessDate(date);
  for (let skipped = 0; skipped <= MAX_SKIP_DAYS; skipped += 1) {
    if (isWorkingDay(candidate)) return candidate;
    candidate = addDays(candidate, 1);
  }
  throw new RangeError(`No working day within ${MAX_SKIP_DAYS} days after ${date}`);
}

/**
 * The `count` due dates of a schedule starting on `start` (the disbursement's business date): period k's date is
 * `addPeriods(start, frequency, k)` moved to the next working day. When a run of closed days would give two periods
 * the same date (daily instalments over a weekend, a long holiday), the later one moves to the next working day
 * after the earlier, so due dates are always strictly increasing.
 */
export function dueDates(
  start: string,
  frequency: RepaymentFrequency,
  count: number,
  isWorkingDay: WorkingDayTest = isWeekday,
): string[] {
  assertBusinessDate(start);
  const dates: string[] = [];
  let previous = start;
  for (let k = 1; k <= count; k += 1) {
    let candidate = addPeriods(start, frequency, k);
    if (candidate <= previous) candidate = addDays(previous, 1);
    previous = nextWorkingDay(candidate, isWorkingDay);
    dates.push(previous);
  }
  return dates;
}
