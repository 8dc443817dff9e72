/**
 * Reading notifications: a principal's in-app inbox (what was delivered, unread counts, marking read) and staff views
 * of every message with its delivery state.
 */
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/http.ts';
import { type NotificationChannel, notifications } from './notifications.tables.ts';
import type { PrincipalRef } from './preferences.ts';

export type NotificationRow = typeof notifications.$inferSelect;

export function notificationView(row: NotificationRow) {
  return {
    id: row.id,
    recipient_type: row.recipientType,
    recipient_id: row.recipientId,
    channel: row.channel,
    category: row.category,
    template_code: row.templateCode,
    template_id: row.templateId,
    language: row.language,
    address: row.address,
    subject: row.subject,
    body: row.body,
    status: row.status,
    provider: row.provider,
    provider_message_id: row.providerMessageId,
    provider_status: row.providerStatus,
    segments: row.segments,
    attempts: row.attempts,
    next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
    error_code: row.errorCode,
    error: row.error,
    sent_at: row.sentAt?.toISOString() ?? null,
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    failed_at: row.failedAt?.toISOString() ?? null,
    read_at: row.readAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  };
}

export function inboxView(row: NotificationRow) {
  return {
    id: row.id,
    template_code: row.templateCode,
    category: row.category,
    title: row.subject,
    body: row.body,
    data: row.data,
    read: row.readAt !== null,
    read_at: row.readAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  };
}

export class NotificationReads {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  async inbox(principal: PrincipalRef, query: { unread?: boolean; limit?: number; cursor?: string }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const owner = and(
      eq(notifications.recipientType, principal.type),
      eq(notifications.recipientId, principal.id),
      eq(notifications.channel, 'in_app'),
      // Only what was delivered: a message still queued (marketing held by quiet hours) is not there yet, and
      // appears together with its live event; suppressed ones never do.
      eq(notifications.status, 'delivered'),
    );
    const rows = await this.#db
      .select()
      .from(notifications)
      .where(
        and(
          owner,
          query.unread ? isNull(notifications.readAt) : undefined,
          position ? lt(notifications.id, position.id) : undefined,
        ),
      )
      .orderBy(desc(notifications.id))
      .limit(limit + 1);
    const [counted] = await this.#db
      .select({ unread: sql<number>`count(*)::int` })
      .from(notifications)
      .where(and(owner, isNull(notifications.readAt)));
    const page = rows.slice(0, limit);
    return {
      items: page.map(inboxView),
      unread: counted?.unread ?? 0,
      next_cursor: rows.length > limit ? encodeCursor({ id: page.at(-1)!.id }) : null,
    };
  }

  async markRead(principal: PrincipalRef, id: string) {
    const mine = and(
      eq(notifications.id, id),
      eq(notifications.recipientType, principal.type),
      eq(notifications.recipientId, principal.id),
      eq(notifications.channel, 'in_app'),
      eq(notifications.status, 'delivered'),
    );
    await this.#db
      .update(notifications)
      .set({ readAt: new Date(), updatedAt: new Date() })
      .where(and(mine, isNull(notifications.readAt)));
    const [row] = await this.#db.select().from(notifications).where(mine).limit(1);
    if (!row) throw commonErrors.notFound('Notification');
    return inboxView(row);
  }

  async markAllRead(principal: PrincipalRef): Promise<{ marked: number }> {
    const rows = await this.#db
      .update(notifications)
      .set({ readAt: new Date(), updatedAt: new Date() })
      .where(
        and(
          eq(notifications.recipientType, principal.type),
          eq(notifications.recipientId, principal.id),
          eq(notifications.channel, 'in_app'),
          eq(notifications.status, 'delivered'),
          isNull(notifications.readAt),
        ),
      )
      .returning({ id: notifications.id });
    return { marked: rows.length };
  }

  async get(id: string) {
    const [row] = await this.#db.select().from(notifications).where(eq(notifications.id, id)).limit(1);
    if (!row) throw commonErrors.notFound('Notification');
    return notificationView(row);
  }

  async list(query: {
    recipient_type?: 'customer' | 'user';
    recipient_id?: string;
    channel?: NotificationChannel;
    status?: NotificationRow['status'];
    template_code?: string;
    limit?: number;
    cursor?: string;
  }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const rows = await this.#db
      .select()
      .from(notifications)
      .where(
        and(
          query.recipient_type ? eq(notifications.recipientType, query.recipient_type) : undefined,
          query.recipient_id ? eq(notifications.recipientId, query.recipient_id) : undefined,
          query.channel ? eq(notifications.channel, query.channel) : undefined,
          query.status ? eq(notifications.status, query.status) : undefined,
          query.template_code ? eq(notifications.templateCode, query.template_code) : undefined,
          position ? lt(notifications.id, position.id) : undefined,
        ),
      )
      .orderBy(desc(notifications.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map(notificationView),
      next_cursor: rows.length > limit ? encodeCursor({ id: page.at(-1)!.id }) : null,
    };
  }
}
