/**
 * Preferences per principal: language, time zone, quiet hours and marketing consent per channel. Transactional
 * messages ignore consent and quiet hours; marketing goes only where consented, and waits out quiet hours.
 */
import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { type NotificationChannel, notificationPreferences } from './notifications.tables.ts';

export interface PrincipalRef {
  type: 'customer' | 'user';
  id: string;
}

export interface Preferences {
  language: string;
  time_zone: string;
  quiet_hours: { start: string; end: string } | null;
  marketing_channels: NotificationChannel[];
}

export const DEFAULT_PREFERENCES: Preferences = {
  language: 'en',
  time_zone: 'Africa/Nairobi',
  quiet_hours: null,
  marketing_channels: [],
};

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minuteOf(clock: string): number {
  const match = CLOCK.exec(clock);
  if (!match)
    throw commonErrors.validation('Quiet hours are HH:MM', {
      errors: [{ field: 'body.quiet_hours', message: 'must be HH:MM' }],
    });
  return Number(match[1]) * 60 + Number(match[2]);
}

function clockOf(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

export function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export async function preferencesOf(executor: Executor, principal: PrincipalRef): Promise<Preferences> {
  const [row] = await executor
    .select()
    .from(notificationPreferences)
    .where(
      and(
        eq(notificationPreferences.principalType, principal.type),
        eq(notificationPreferences.principalId, principal.id),
      ),
    )
    .limit(1);
  if (!row) return { ...DEFAULT_PREFERENCES };
  return {
    language: row.language,
    time_zone: row.timeZone,
    quiet_hours:
      row.quietStartMinute === null || row.quietEndMinute === null
        ? null
        : { start: clockOf(row.quietStartMinute), end: clockOf(row.quietEndMinute) },
    marketing_channels: row.marketingChannels as NotificationChannel[],
  };
}

/** The time zone the principal chose, or null when they never set preferences (callers pick the default). */
export async function storedTimeZone(executor: Executor, principal: PrincipalRef): Promise<string | null> {
  const [row] = await executor
    .select({ zone: notificationPreferences.timeZone })
    .from(notificationPreferences)
    .where(
      and(
        eq(notificationPreferences.principalType, principal.type),
        eq(notificationPreferences.principalId, principal.id),
      ),
    )
    .limit(1);
  return row?.zone ?? null;
}

export async function savePreferences(
  executor: Executor,
  principal: PrincipalRef,
  changes: Partial<Preferences>,
): Promise<Preferences> {
  const current = await preferencesOf(executor, principal);
  const next: Preferences = { ...current, ...changes };
  if (!validTimeZone(next.time_zone))
    throw commonErrors.validation('Unknown time zone', {
      errors: [{ field: 'body.time_zone', message: 'is not an IANA time zone' }],
    });
  const start = next.quiet_hours ? minuteOf(next.quiet_hours.start) : null;
  const end = next.quiet_hours ? minuteOf(next.quiet_hours.end) : null;
  if (start !== null && start === end)
    throw commonErrors.validation('Quiet hours must not start and end at the same minute', {
      errors: [{ field: 'body.quiet_hours', message: 'start equals end' }],
    });
  const values = {
    language: next.language,
    timeZone: next.time_zone,
    quietStartMinute: start,
    quietEndMinute: end,
    marketingChannels: [...new Set(next.marketing_channels)],
    updatedAt: new Date(),
  };
  await executor
    .insert(notificationPreferences)
    .values({ principalType: principal.type, principalId: principal.id, ...values })
    .onConflictDoUpdate({
      target: [notificationPreferences.principalType, notificationPreferences.principalId],
      set: values,
    });
  return preferencesOf(executor, principal);
}

/** Minutes after local midnight of `at` in the zone. */
function localMinute(at: Date, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const hour = Number(parts.find((part) => part.type === 'hour')!.value);
  const minute = Number(parts.find((part) => part.type === 'minute')!.value);
  return hour * 60 + minute;
}

/** When a marketing message may go: `at` itself, or the end of the quiet hours it falls in. */
export function afterQuietHours(preferences: Preferences, at: Date): Date {
  if (!preferences.quiet_hours) return at;
  const start = minuteOf(preferences.quiet_hours.start);
  const end = minuteOf(preferences.quiet_hours.end);
  const now = localMinute(at, preferences.time_zone);
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return at;
  const wait = (end - now + 1440) % 1440;
  const resumed = new Date(at.getTime() + wait * 60_000);
  resumed.setUTCSeconds(0, 0);
  return resumed;
}
