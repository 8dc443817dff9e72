/**
 * Minimal support chat: a conversation per customer topic, and its messages. A message carries the sender's optional
 * `client_id`, unique per conversation and sender, so a resend after a lost acknowledgement stores nothing twice.
 */
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const CONVERSATION_STATUSES = ['open', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const SENDER_TYPES = ['customer', 'user'] as const;
export type SenderType = (typeof SENDER_TYPES)[number];

export const supportConversations = pgTable(
  'support_conversations',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id').notNull(),
    subject: text('subject').notNull(),
    status: text('status', { enum: CONVERSATION_STATUSES }).notNull(),
    /** The staff member working it: the first one to reply, unless assigned earlier. */
    assignedUserId: uuid('assigned_user_id'),
    closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    index('support_conversations_customer_idx').on(table.customerId, table.id),
    index('support_conversations_status_idx').on(table.status, table.id),
  ],
);

export const supportChatMessages = pgTable(
  'support_chat_messages',
  {
    /** UUIDv7: time-ordered, so a conversation's messages page by id. */
    id: uuid('id').primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => supportConversations.id, { onDelete: 'cascade' }),
    senderType: text('sender_type', { enum: SENDER_TYPES }).notNull(),
    senderId: uuid('sender_id').notNull(),
    text: text('text').notNull(),
    clientId: text('client_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    index('support_chat_messages_conversation_idx').on(table.conversationId, table.id),
    uniqueIndex('support_chat_messages_client_key').on(table.conversationId, table.senderId, table.clientId),
  ],
);
