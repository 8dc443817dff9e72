/**
 * The onboarding journey's tables: one registration per journey (its state, the steps' results and times), the
 * stored answer of each step for idempotent replay, the versioned terms and privacy documents, and the deny list.
 * PII (declared details, the identity result) is sealed like customers' PII (envelope encryption bound to the row);
 * the national ID also has a blind index. A purge clears the PII and keeps the state and step times (the counts).
 * No other module imports these tables (the boundary test checks): they go through `journey` in index.ts.
 */
import { sql } from 'drizzle-orm';
import {
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

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const registrations = pgTable(
  'registrations',
  {
    id: uuid('id').primaryKey(),
    /** keyedHash(pepper, 'registration-token', token): the token itself is given once and never stored. */
    tokenHash: text('token_hash').notNull(),
    /** E.164; null once purged. */
    phone: text('phone'),
    /** ISO 3166 country of the phone (kept after a purge, for counts). */
    phoneCountry: text('phone_country').notNull(),
    deviceId: text('device_id'),
    appVersion: text('app_version').notNull(),
    /**
     * Where the registration was made: the mobile app, USSD (onboarding.ussd.ts; no device, no token used), or an
     * agent's operator (onboarding.agent.ts; the registrar columns say which).
     */
    channel: text('channel', { enum: ['app', 'ussd', 'agent'] })
      .notNull()
      .default('app'),
    /** Agent-assisted registration: the agent and the operator who registered the customer (agents module ids). */
    registrarAgentId: uuid('registrar_agent_id'),
    registrarOperatorId: uuid('registrar_operator_id'),
    language: text('language').notNull(),
    /** A state of onboarding.machine.ts STATES. */
    state: text('state').notNull(),
    /** The identity path taken: cbs (existing bank customer) or didit (new customer). */
    path: text('path'),
    /** Sealed JSON of the declared details (names, date of birth, national ID, email, account number). */
    declaredSealed: text('declared_sealed'),
    /** Blind index of the declared national ID (customers' `national-id:<type>` index): duplicate checks. */
    nationalIdIndex: text('national_id_index'),
    /** Sealed JSON of the identity result (names, DOB, document, nationality as the CBS or Didit gave them). */
    identitySealed: text('identity_sealed'),
    /** The identity result without PII: assurance, liveness, face match, document type, mismatched field names. */
    identitySummary: jsonb('identity_summary'),
    cbsClientId: text('cbs_client_id'),
    diditSessionId: text('didit_session_id'),
    phoneVerifiedAt: at('phone_verified_at'),
    /** Sealed email address the email OTP was sent to. */
    emailSealed: text('email_sealed'),
    emailVerifiedAt: at('email_verified_at'),
    emailSkipped: boolean('email_skipped').notNull().default(false),
    termsVersionHash: text('terms_version_hash'),
    privacyVersionHash: text('privacy_version_hash'),
    consentAt: at('consent_at'),
    consentIp: text('consent_ip'),
    consentDeviceId: text('consent_device_id'),
    /**
     * The PIN as customers' credentials keep it: keyedHash(pepper, `pin:${pinCustomerId}`, pin). Activation creates
     * the customer with id `pinCustomerId` and copies the hash into its credentials.
     */
    pinHash: text('pin_hash'),
    pinCustomerId: uuid('pin_customer_id'),
    deviceBoundAt: at('device_bound_at'),
    /**
     * The device's Ed25519 public key (SPKI PEM) the PIN step received, with its platform, name and push token:
     * activation registers the device with identity for push approvals. The push token and name go with a purge.
     */
    devicePublicKey: text('device_public_key'),
    devicePlatform: text('device_platform', { enum: ['ios', 'android', 'web'] }),
    deviceName: text('device_name'),
    devicePushToken: text('device_push_token'),
    /** Set by activation. */
    customerId: uuid('customer_id'),
    /** Why the registration went to manual review, or was declined/rejected (text a customer can read). */
    reviewReasons: jsonb('review_reasons').$type<string[]>(),
    outcomeReason: text('outcome_reason'),
    /** The step a reviewer reopened (state info_requested). */
    reopenedStep: text('reopened_step'),
    expiresAt: at('expires_at').notNull(),
    /** First time each step succeeded, ISO strings by step: the funnel and time per step. */
    stepTimes: jsonb('step_times').$type<Record<string, string>>().notNull().default({}),
    version: integer('version').notNull().default(1),
    completedAt: at('completed_at'),
    purgedAt: at('purged_at'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('registrations_token_key').on(table.tokenHash),
    index('registrations_phone_idx').on(table.phone),
    index('registrations_state_idx').on(table.state, table.expiresAt),
    index('registrations_national_id_idx').on(table.nationalIdIndex),
    index('registrations_created_idx').on(table.createdAt),
    index('registrations_channel_phone_idx').on(table.channel, table.phone),
    index('registrations_registrar_agent_idx')
      .on(table.registrarAgentId)
      .where(sql`${table.registrarAgentId} is not null`),
    uniqueIndex('registrations_didit_session_key')
      .on(table.diditSessionId)
      .where(sql`${table.diditSessionId} is not null`),
  ],
);

/** The answer of each step per request hash: the same step sent again answers the same. */
export const registrationSteps = pgTable(
  'registration_steps',
  {
    registrationId: uuid('registration_id')
      .notNull()
      .references(() => registrations.id, { onDelete: 'cascade' }),
    step: text('step').notNull(),
    requestHash: text('request_hash').notNull(),
    fromState: text('from_state').notNull(),
    toState: text('to_state').notNull(),
    statusCode: integer('status_code').notNull(),
    answer: jsonb('answer'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.registrationId, table.step, table.requestHash] })],
);

/** Terms of service and privacy policy: each version is immutable, identified by the SHA-256 of its body. */
export const onboardingDocuments = pgTable(
  'onboarding_documents',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: ['terms', 'privacy'] }).notNull(),
    version: text('version').notNull(),
    language: text('language').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    contentHash: text('content_hash').notNull(),
    publishedAt: at('published_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('onboarding_documents_version_key').on(table.kind, table.version, table.language),
    index('onboarding_documents_current_idx').on(table.kind, table.language, table.publishedAt),
  ],
);

/** Phones, devices and national IDs refused at registration (values kept as keyed hashes). */
export const onboardingDenyList = pgTable(
  'onboarding_deny_list',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: ['phone', 'device', 'national_id'] }).notNull(),
    valueIndex: text('value_index').notNull(),
    reason: text('reason').notNull(),
    createdBy: text('created_by'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (table) => [uniqueIndex('onboarding_deny_list_value_key').on(table.kind, table.valueIndex)],
);
