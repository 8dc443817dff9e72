/**
 * Customers and their contacts. National ID and date of birth are stored sealed (envelope encryption, bound to the
 * row id) with an HMAC blind index for exact search; only the last four ID characters are kept for display.
 */
import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const customers = pgTable(
  'customers',
  {
    id: uuid('id').primaryKey(),
    customerNumber: text('customer_number').notNull(),
    customerType: text('customer_type', { enum: ['individual', 'business'] }).notNull(),
    firstName: text('first_name').notNull(),
    middleName: text('middle_name'),
    lastName: text('last_name').notNull(),
    businessName: text('business_name'),
    gender: text('gender', { enum: ['female', 'male', 'other', 'undisclosed'] }),
    nationality: text('nationality'),
    occupation: text('occupation'),
    incomeBand: text('income_band'),
    nationalIdType: text('national_id_type'),
    nationalIdSealed: text('national_id_sealed'),
    nationalIdIndex: text('national_id_index'),
    nationalIdLast4: text('national_id_last4'),
    dateOfBirthSealed: text('date_of_birth_sealed'),
    status: text('status', { enum: ['pending', 'active', 'suspended', 'closed'] }).notNull(),
    statusReason: text('status_reason'),
    kycTier: text('kyc_tier').notNull().default('basic'),
    /** When the granted tier lapses and re-KYC is due (null: never). */
    kycTierExpiresAt: timestamp('kyc_tier_expires_at', { withTimezone: true, mode: 'date' }),
    channel: text('channel', { enum: ['web', 'mobile', 'ussd', 'agent'] }).notNull(),
    registeredByType: text('registered_by_type'),
    registeredById: text('registered_by_id'),
    /** The core-banking (Fineract) client this customer is, when self-registration found them there; one each. */
    cbsClientId: text('cbs_client_id'),
    /**
     * Every KYC-tier and product amount limit of the customer's wallets counts at this percent (1..100; 100: as set);
     * customers.limits.ts. `limitReason` is who set it (`aml_high_risk`, `staff`), null at 100.
     */
    limitPercent: smallint('limit_percent').notNull().default(100),
    limitReason: text('limit_reason'),
    erasedAt: timestamp('erased_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('customers_number_key').on(table.customerNumber),
    uniqueIndex('customers_national_id_key').on(table.nationalIdType, table.nationalIdIndex),
    uniqueIndex('customers_cbs_client_key')
      .on(table.cbsClientId)
      .where(sql`${table.cbsClientId} is not null`),
    index('customers_name_idx').on(sql`lower(${table.lastName})`, sql`lower(${table.firstName})`),
    index('customers_status_idx').on(table.status, table.id),
  ],
);

export const customerPhones = pgTable(
  'customer_phones',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    phone: text('phone').notNull(),
    primary: boolean('is_primary').notNull().default(false),
    verifiedAt: timestamp('verified_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('customer_phones_phone_key').on(table.phone),
    index('customer_phones_customer_idx').on(table.customerId),
  ],
);

export const customerEmails = pgTable(
  'customer_emails',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    primary: boolean('is_primary').notNull().default(false),
    verifiedAt: timestamp('verified_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('customer_emails_email_key').on(sql`lower(${table.email})`),
    index('customer_emails_customer_idx').on(table.customerId),
  ],
);

export const customerAddresses = pgTable(
  'customer_addresses',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['home', 'work', 'postal', 'business'] }).notNull(),
    line1: text('line1').notNull(),
    line2: text('line2'),
    city: text('city').notNull(),
    region: text('region'),
    postalCode: text('postal_code'),
    country: text('country').notNull(),
    primary: boolean('is_primary').notNull().default(false),
    ...timestamps,
  },
  (table) => [index('customer_addresses_customer_idx').on(table.customerId)],
);

/**
 * A customer's transaction PIN: an HMAC keyed by the server pepper (a 4–6 digit space falls to any offline attack
 * whatever the hash; the key is what protects it). Failed attempts are counted in the row, before the check.
 */
export const customerCredentials = pgTable('customer_credentials', {
  customerId: uuid('customer_id')
    .primaryKey()
    .references(() => customers.id, { onDelete: 'cascade' }),
  pinHash: text('pin_hash').notNull(),
  pinFailedAttempts: integer('pin_failed_attempts').notNull().default(0),
  pinLockedAt: timestamp('pin_locked_at', { withTimezone: true, mode: 'date' }),
  pinChangedAt: timestamp('pin_changed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  ...timestamps,
});
