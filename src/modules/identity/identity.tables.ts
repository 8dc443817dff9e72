/** Staff identities, roles and permissions, signing keys and refresh-token sessions. */
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
import { PRINCIPAL_TYPES } from '../../platform/http.ts';
import { timestamps } from '../../platform/platform.tables.ts';

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    phone: text('phone'),
    fullName: text('full_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    passwordChangedAt: timestamp('password_changed_at', { withTimezone: true, mode: 'date' })
      .notNull()
      .defaultNow(),
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    status: text('status', { enum: ['active', 'suspended', 'disabled'] })
      .notNull()
      .default('active'),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('users_username_key').on(sql`lower(${table.username})`),
    uniqueIndex('users_email_key').on(sql`lower(${table.email})`),
    uniqueIndex('users_phone_key').on(table.phone),
  ],
);

export const roles = pgTable(
  'roles',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    system: boolean('system').notNull().default(false),
    ...timestamps,
  },
  (table) => [uniqueIndex('roles_code_key').on(table.code)],
);

export const permissions = pgTable('permissions', {
  code: text('code').primaryKey(),
  module: text('module').notNull(),
  action: text('action').notNull(),
  description: text('description').notNull(),
  ...timestamps,
});

export const rolePermissions = pgTable(
  'role_permissions',
  {
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    permissionCode: text('permission_code')
      .notNull()
      .references(() => permissions.code, { onDelete: 'cascade' }),
    ...timestamps,
  },
  (table) => [primaryKey({ columns: [table.roleId, table.permissionCode] })],
);

export const userRoles = pgTable(
  'user_roles',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    ...timestamps,
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.roleId] }),
    index('user_roles_role_idx').on(table.roleId),
  ],
);

/** Ed25519 signing keys; the private half wrapped by the master key. Retired keys still verify until expiry. */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  algorithm: text('algorithm').notNull(),
  publicJwk: jsonb('public_jwk').notNull(),
  privateKeyWrapped: text('private_key_wrapped').notNull(),
  status: text('status', { enum: ['active', 'retired'] }).notNull(),
  retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
  ...timestamps,
});

/** One row per refresh token; a family is one login session, rotated on every refresh. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey(),
    familyId: uuid('family_id').notNull(),
    principalType: text('principal_type', { enum: PRINCIPAL_TYPES }).notNull(),
    principalId: uuid('principal_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    generation: integer('generation').notNull().default(0),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    revokedReason: text('revoked_reason'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('refresh_tokens_hash_key').on(table.tokenHash),
    index('refresh_tokens_family_idx').on(table.familyId),
    index('refresh_tokens_principal_idx').on(table.principalId, table.principalType),
  ],
);

/**
 * Second factors. A TOTP secret is stored sealed (envelope encryption); `last_used_step` refuses code replay. SMS and
 * email factors keep their proven destination (phone, email) sealed in `secret_sealed` the same way.
 */
export const mfaFactors = pgTable(
  'mfa_factors',
  {
    id: uuid('id').primaryKey(),
    principalType: text('principal_type', { enum: PRINCIPAL_TYPES }).notNull(),
    principalId: uuid('principal_id').notNull(),
    kind: text('kind', { enum: ['totp', 'sms_otp', 'email_otp'] }).notNull(),
    secretSealed: text('secret_sealed').notNull(),
    status: text('status', { enum: ['pending', 'active'] }).notNull(),
    lastUsedStep: bigint('last_used_step', { mode: 'number' }).notNull().default(0),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('mfa_factors_principal_kind').on(table.principalType, table.principalId, table.kind),
  ],
);

/** Single-use recovery codes, stored as keyed hashes. */
export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: uuid('id').primaryKey(),
    principalType: text('principal_type', { enum: PRINCIPAL_TYPES }).notNull(),
    principalId: uuid('principal_id').notNull(),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [uniqueIndex('recovery_codes_principal_hash').on(table.principalId, table.codeHash)],
);

/** Earlier password hashes of a user, so the last N cannot be reused. */
export const passwordHistory = pgTable(
  'password_history',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    passwordHash: text('password_hash').notNull(),
    ...timestamps,
  },
  (table) => [index('password_history_user_idx').on(table.userId, table.createdAt)],
);

/** Answers to security questions, normalised and hashed like passwords. */
export const securityAnswers = pgTable(
  'security_answers',
  {
    id: uuid('id').primaryKey(),
    principalType: text('principal_type', { enum: PRINCIPAL_TYPES }).notNull(),
    principalId: uuid('principal_id').notNull(),
    questionCode: text('question_code').notNull(),
    answerHash: text('answer_hash').notNull(),
    ...timestamps,
  },
  (table) => [uniqueIndex('security_answers_principal_question').on(table.principalId, table.questionCode)],
);

/**
 * Single-use password-reset tokens: only a keyed hash of the token is kept, with its expiry. A new request voids the
 * user's earlier unused tokens; a reset consumes its row with one guarded update, so a token works once.
 */
export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
    voidedAt: timestamp('voided_at', { withTimezone: true, mode: 'date' }),
    requestedIp: text('requested_ip'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('password_reset_tokens_hash_key').on(table.tokenHash),
    index('password_reset_tokens_user_idx').on(table.userId, table.createdAt),
  ],
);

/**
 * Devices that approve push challenges, per principal: the device's Ed25519 public key (SPKI PEM; the private key
 * never leaves the device) and its push token. Revoked devices stay for the audit trail but answer nothing.
 */
export const registeredDevices = pgTable(
  'registered_devices',
  {
    id: uuid('id').primaryKey(),
    principalType: text('principal_type', { enum: PRINCIPAL_TYPES }).notNull(),
    principalId: uuid('principal_id').notNull(),
    deviceId: text('device_id').notNull(),
    name: text('name').notNull(),
    platform: text('platform', { enum: ['ios', 'android', 'web'] }).notNull(),
    publicKey: text('public_key').notNull(),
    /** FCM registration token; cleared when FCM answers UNREGISTERED. */
    pushToken: text('push_token'),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('registered_devices_principal_device').on(
      table.principalType,
      table.principalId,
      table.deviceId,
    ),
  ],
);

/**
 * Push approvals: a short-lived challenge sent to the principal's devices, answered once (approve or deny) by a
 * request signed with a registered device key, then consumed once by the step that waited for it. The id is
 * random (144 bits), not a UUID: the waiting client holds it.
 */
export const pushChallenges = pgTable(
  'push_challenges',
  {
    id: text('id').primaryKey(),
    principalType: text('principal_type', { enum: PRINCIPAL_TYPES }).notNull(),
    principalId: uuid('principal_id').notNull(),
    /** Only this device may answer; null: any active device of the principal. */
    targetDeviceId: uuid('target_device_id'),
    purpose: text('purpose', { enum: ['login', 'transaction'] }).notNull(),
    details: jsonb('details').$type<Record<string, string | number>>().notNull(),
    nonce: text('nonce').notNull(),
    status: text('status', { enum: ['pending', 'approved', 'denied', 'expired'] }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    respondedAt: timestamp('responded_at', { withTimezone: true, mode: 'date' }),
    respondedDeviceId: uuid('responded_device_id'),
    consumedAt: timestamp('consumed_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [index('push_challenges_principal_idx').on(table.principalId, table.createdAt)],
);
