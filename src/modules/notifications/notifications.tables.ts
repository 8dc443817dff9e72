/**
 * Notifications: versioned templates per channel and language, one row per message and recipient address with its
 * delivery state, provider delivery reports (idempotent on the provider's event), and preferences per principal.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const NOTIFICATION_CHANNELS = ['sms', 'email', 'push', 'in_app'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export const NOTIFICATION_CATEGORIES = ['transactional', 'marketing'] as const;
export type NotificationCategory = (typeof NOTIFICATION_CATEGORIES)[number];
export const NOTIFICATION_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
  'dead',
  'suppressed',
] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/**
 * A template is (code, channel, language, version); editing makes a new version and retires the old one, so a
 * message always names the exact text it was rendered from. `variables` are declared: rendering with a missing or
 * undeclared variable is refused. `secret_variables` (one-time codes, reset links) are never stored in clear.
 */
export const notificationTemplates = pgTable(
  'notification_templates',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    channel: text('channel', { enum: NOTIFICATION_CHANNELS }).notNull(),
    language: text('language').notNull(),
    version: integer('version').notNull(),
    category: text('category', { enum: NOTIFICATION_CATEGORIES }).notNull(),
    /** Email subject, push title, in-app title; null for SMS. */
    subject: text('subject'),
    body: text('body').notNull(),
    /** Email only: the HTML part (variables are HTML-escaped into it). */
    htmlBody: text('html_body'),
    variables: jsonb('variables').$type<string[]>().notNull(),
    secretVariables: jsonb('secret_variables').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    active: boolean('active').notNull().default(true),
    createdById: uuid('created_by_id'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('notification_templates_version_key').on(
      table.code,
      table.channel,
      table.language,
      table.version,
    ),
    uniqueIndex('notification_templates_active_key')
      .on(table.code, table.channel, table.language)
      .where(sql`${table.active}`),
  ],
);

export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey(),
    recipientType: text('recipient_type', { enum: ['customer', 'user'] }).notNull(),
    recipientId: uuid('recipient_id').notNull(),
    channel: text('channel', { enum: NOTIFICATION_CHANNELS }).notNull(),
    category: text('category', { enum: NOTIFICATION_CATEGORIES }).notNull(),
    templateCode: text('template_code').notNull(),
    templateId: uuid('template_id').notNull(),
    language: text('language').notNull(),
    /** E.164 phone, email address, or the registered device id (push); null in-app. */
    address: text('address'),
    subject: text('subject'),
    /** Rendered text with secret variables masked; the worker renders again with the secrets opened. */
    body: text('body').notNull(),
    variables: jsonb('variables').$type<Record<string, string>>().notNull(),
    /** AES-256-GCM envelope of the secret variables, bound to the notification id. */
    secretsSealed: text('secrets_sealed'),
    /** Small string map handed to push data / WebSocket events (ids, never secrets). */
    data: jsonb('data').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    status: text('status', { enum: NOTIFICATION_STATUSES }).notNull(),
    provider: text('provider'),
    providerMessageId: text('provider_message_id'),
    providerStatus: text('provider_status'),
    segments: integer('segments'),
    attempts: integer('attempts').notNull().default(0),
    /** A claimed delivery not finished by then is taken over (the worker died mid-send). */
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    errorCode: text('error_code'),
    error: text('error'),
    /** Exactly one message per source (outbox event + recipient + channel + address, or a caller's key). */
    dedupeKey: text('dedupe_key').notNull(),
    sourceEventId: bigint('source_event_id', { mode: 'bigint' }),
    createdByType: text('created_by_type'),
    createdById: uuid('created_by_id'),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'date' }),
    readAt: timestamp('read_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('notifications_dedupe_key').on(table.dedupeKey),
    uniqueIndex('notifications_provider_message_key')
      .on(table.provider, table.providerMessageId)
      .where(sql`${table.providerMessageId} is not null`),
    index('notifications_recipient_idx').on(table.recipientType, table.recipientId, table.channel, table.id),
    index('notifications_status_idx').on(table.status, table.id),
  ],
);

/** Provider delivery reports, kept once per provider event (callbacks arrive at least once, in any order). */
export const notificationDeliveryReports = pgTable(
  'notification_delivery_reports',
  {
    id: uuid('id').primaryKey(),
    provider: text('provider').notNull(),
    /** The provider's id of the event: MessageSid + status (Twilio), id + status (AT), sg_event_id (SendGrid). */
    eventKey: text('event_key').notNull(),
    providerMessageId: text('provider_message_id').notNull(),
    providerStatus: text('provider_status').notNull(),
    notificationId: uuid('notification_id'),
    errorCode: text('error_code'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('notification_delivery_reports_event_key').on(table.provider, table.eventKey)],
);

/**
 * Preferences per principal: language, time zone, quiet hours for marketing, and per-channel marketing consent.
 * Transactional messages (codes, alerts of money moved, security) always go.
 */
export const notificationPreferences = pgTable(
  'notification_preferences',
  {
    principalType: text('principal_type', { enum: ['customer', 'user'] }).notNull(),
    principalId: uuid('principal_id').notNull(),
    language: text('language').notNull().default('en'),
    timeZone: text('time_zone').notNull().default('Africa/Nairobi'),
    /** Minutes after local midnight; both null: no quiet hours. */
    quietStartMinute: integer('quiet_start_minute'),
    quietEndMinute: integer('quiet_end_minute'),
    /** Channels on which the principal accepts marketing. */
    marketingChannels: jsonb('marketing_channels').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    ...timestamps,
  },
  (table) => [primaryKey({ columns: [table.principalType, table.principalId] })],
);
