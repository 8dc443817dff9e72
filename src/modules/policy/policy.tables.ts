/** Access policies (who may act from where and when) and transaction-control limits. */
import { bigint, boolean, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const accessPolicies = pgTable(
  'access_policies',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    /** Role the policy binds; null binds every staff user. */
    roleCode: text('role_code'),
    /** Channels allowed; null allows all. */
    allowedChannels: jsonb('allowed_channels').$type<string[] | null>(),
    /** IPv4/IPv6 addresses or CIDR blocks; null allows any address. */
    ipAllowlist: jsonb('ip_allowlist').$type<string[] | null>(),
    /** Allowed hours in the given IANA time zone and ISO weekdays (1 = Monday); null allows any time. */
    timeWindow: jsonb('time_window').$type<{
      start: string;
      end: string;
      timezone: string;
      days: number[];
    } | null>(),
    active: boolean('active').notNull().default(true),
    ...timestamps,
  },
  (table) => [index('access_policies_role_idx').on(table.roleCode)],
);

export const transactionLimits = pgTable(
  'transaction_limits',
  {
    id: uuid('id').primaryKey(),
    kycTier: text('kyc_tier').notNull(),
    /** `*` matches every channel. */
    channel: text('channel').notNull(),
    /** `*` matches every transaction type. */
    transactionType: text('transaction_type').notNull(),
    period: text('period', { enum: ['single', 'daily', 'monthly'] }).notNull(),
    currency: text('currency').notNull(),
    maxAmountMinor: bigint('max_amount_minor', { mode: 'bigint' }).notNull(),
    maxCount: integer('max_count'),
    active: boolean('active').notNull().default(true),
    ...timestamps,
  },
  (table) => [index('transaction_limits_lookup_idx').on(table.kycTier, table.currency)],
);
