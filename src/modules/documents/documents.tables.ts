/** Uploaded documents: metadata here, bytes encrypted in storage under a per-file data key. */
import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id').notNull(),
    documentType: text('document_type').notNull(),
    status: text('status', { enum: ['uploaded', 'verified', 'rejected', 'expired'] }).notNull(),
    mimeType: text('mime_type').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    wrappedKey: text('wrapped_key').notNull(),
    uploadedByType: text('uploaded_by_type').notNull(),
    uploadedById: text('uploaded_by_id'),
    reviewedById: text('reviewed_by_id'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true, mode: 'date' }),
    reviewReason: text('review_reason'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [index('documents_customer_idx').on(table.customerId, table.documentType, table.status)],
);
