/**
 * KYC tiers (requirements, balance caps, features per channel) and KYC applications. The customer's current tier is
 * a column of the customers table, owned by the customers module (customers.tier.ts changes it).
 */
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const kycTiers = pgTable('kyc_tiers', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  rank: integer('rank').notNull(),
  requiredDocuments: jsonb('required_documents').$type<string[]>().notNull(),
  requiredVerifications: jsonb('required_verifications').$type<string[]>().notNull(),
  /** Largest balance per currency, in minor units as decimal strings (JSON has no 64-bit integers). */
  maxBalance: jsonb('max_balance').$type<Record<string, string>>().notNull(),
  /** Features available per channel. */
  features: jsonb('features').$type<Record<string, string[]>>().notNull(),
  /** Days a granted tier stays valid before re-KYC; null: no expiry. */
  validityDays: integer('validity_days'),
  ...timestamps,
});

export const kycApplications = pgTable(
  'kyc_applications',
  {
    id: uuid('id').primaryKey(),
    /**
     * The customer. The database keeps the foreign key to customers (on delete cascade) that migration 0009 made
     * (`kyc_applications_customer_id_customers_id_fk`); it is not declared here because the customers table belongs to
     * another module, which this one reaches through its functions only. `npm run db:generate` therefore proposes
     * dropping the constraint: leave that statement out of the migration.
     */
    customerId: uuid('customer_id').notNull(),
    fromTier: text('from_tier').notNull(),
    targetTier: text('target_tier')
      .notNull()
      .references(() => kycTiers.code),
    status: text('status', {
      enum: ['initiated', 'submitted', 'approved', 'rejected', 'cancelled'],
    }).notNull(),
    initiatedByType: text('initiated_by_type').notNull(),
    initiatedById: text('initiated_by_id'),
    decidedById: text('decided_by_id'),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    reason: text('reason'),
    ...timestamps,
  },
  (table) => [index('kyc_applications_customer_idx').on(table.customerId, table.status)],
);
