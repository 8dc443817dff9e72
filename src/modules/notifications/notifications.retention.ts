/**
 * Retention: notifications that reached a final state (sent, delivered, failed, dead, suppressed) and provider
 * delivery reports are deleted once older than `NOTIFICATION_RETENTION_DAYS`; queued and sending ones stay. Ids are
 * UUIDv7 (time-ordered), so "older than" is an id range along the primary key and the status index — no index on the
 * creation time is needed, and each batch is a bounded delete.
 */
import { sql } from 'drizzle-orm';
import { deleteInBatches, type Executor } from '../../platform/db.ts';

const FINAL_STATES = ['sent', 'delivered', 'failed', 'dead', 'suppressed'];

/** The smallest UUIDv7 of the millisecond `ms`: every id created before it sorts below. */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

/** Deletes old finished notifications and old delivery reports; 0 days keeps everything. */
export async function purgeOldNotifications(
  db: Executor,
  days: number,
  now = Date.now(),
  batchSize = 5000,
): Promise<{ notifications: number; reports: number }> {
  if (days <= 0) return { notifications: 0, reports: 0 };
  const bound = uuidv7Floor(now - days * 86_400_000);
  const notifications = await deleteInBatches(
    db,
    'notifications',
    sql`select id from notifications
        where status = any(${`{${FINAL_STATES.join(',')}}`}::text[]) and id < ${bound}::uuid`,
    batchSize,
  );
  const reports = await deleteInBatches(
    db,
    'notification_delivery_reports',
    sql`select id from notification_delivery_reports where id < ${bound}::uuid order by id`,
    batchSize,
  );
  return { notifications, reports };
}
