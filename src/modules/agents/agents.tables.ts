/**
 * The agent network's tables: no other module imports them (the boundary test checks).
 *
 * - `agents`: super-agents (aggregators) and their agents, each a business (KYB) with an owner who is a customer.
 * - `agent_stores`: outlets with coordinates (WGS84) and a geofence; each store holds its own float.
 * - `agent_operators`: the tellers (and agent admins) who sign in as the `agent_operator` principal.
 * - Float: every agent and store has a float ledger account (a liability the bank owes the agent: e-value), guarded
 *   against a negative balance by the ledger itself. Commissions accrue to a per-agent commission payable account.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  char,
  doublePrecision,
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

export const AGENT_KINDS = ['super_agent', 'agent'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

/** pending (awaiting the checker) → active ⇄ suspended → closed. */
export const AGENT_STATUSES = ['pending', 'active', 'suspended', 'closed'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** What happens to a money action outside the fence or with a stale fix. */
export const GEOFENCE_POLICIES = ['refuse', 'flag'] as const;
export type GeofencePolicy = (typeof GEOFENCE_POLICIES)[number];

/** Agent-level limits, decimal strings of minor units; absent means none. */
export interface AgentLimits {
  /** Largest single cash-in or cash-out. */
  single_minor?: string;
  /** Cash-ins plus cash-outs per UTC day, in value. */
  daily_minor?: string;
  /** Largest float balance a store or the agent may hold (top-ups and rebalances beyond it are refused). */
  float_max_minor?: string;
  /** Largest single rebalance. */
  rebalance_single_minor?: string;
}

export const agents = pgTable(
  'agents',
  {
    id: uuid('id').primaryKey(),
    /** Human number (`A` + 7 digits): what a withdrawal code is bound to and what a customer reads on a receipt. */
    agentNumber: text('agent_number').notNull(),
    kind: text('kind', { enum: AGENT_KINDS }).notNull(),
    /** The super-agent an agent belongs to (null for super-agents and independent agents). */
    parentId: uuid('parent_id'),
    businessName: text('business_name').notNull(),
    registrationNumber: text('registration_number').notNull(),
    /** The business tier (KYB) the agent was onboarded at. */
    businessTier: text('business_tier').notNull(),
    /** The owner: a customer of the bank (their KYC is the customers module's). */
    ownerCustomerId: uuid('owner_customer_id').notNull(),
    phone: text('phone').notNull(),
    email: text('email'),
    currency: char('currency', { length: 3 }).notNull(),
    status: text('status', { enum: AGENT_STATUSES }).notNull().default('pending'),
    statusReason: text('status_reason'),
    geofencePolicy: text('geofence_policy', { enum: GEOFENCE_POLICIES }).notNull().default('refuse'),
    limits: jsonb('limits').$type<AgentLimits>().notNull().default(sql`'{}'::jsonb`),
    /** The agent's own float account (same id as its ledger account). */
    floatAccountId: uuid('float_account_id').notNull(),
    /** Commission payable to the agent (ledger liability), paid out by the payout job. */
    commissionAccountId: uuid('commission_account_id').notNull(),
    commissionPlanId: uuid('commission_plan_id'),
    createdBy: uuid('created_by'),
    approvedBy: uuid('approved_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('agents_number_key').on(table.agentNumber),
    uniqueIndex('agents_registration_key').on(table.registrationNumber),
    index('agents_parent_idx').on(table.parentId),
    index('agents_owner_idx').on(table.ownerCustomerId),
  ],
);

export const STORE_STATUSES = ['active', 'suspended', 'closed'] as const;
export type StoreStatus = (typeof STORE_STATUSES)[number];

/** A store's fence: a circle around a point, or a polygon of 3 to 50 vertices ([lat, lon] pairs, WGS84). */
export type Geofence =
  | { type: 'circle'; center: { lat: number; lon: number }; radius_m: number }
  | { type: 'polygon'; vertices: { lat: number; lon: number }[] };

/** Opening hours by ISO weekday (1 = Monday): `[["08:00", "18:00"]]`; a missing day is closed. */
export type OpeningHours = Partial<Record<'1' | '2' | '3' | '4' | '5' | '6' | '7', [string, string][]>>;

export const agentStores = pgTable(
  'agent_stores',
  {
    id: uuid('id').primaryKey(),
    agentId: uuid('agent_id').notNull(),
    /** Human number (`S` + 7 digits). */
    storeNumber: text('store_number').notNull(),
    name: text('name').notNull(),
    address: text('address').notNull(),
    openingHours: jsonb('opening_hours').$type<OpeningHours>().notNull().default(sql`'{}'::jsonb`),
    latitude: doublePrecision('latitude').notNull(),
    longitude: doublePrecision('longitude').notNull(),
    geofence: jsonb('geofence').$type<Geofence>().notNull(),
    status: text('status', { enum: STORE_STATUSES }).notNull().default('active'),
    statusReason: text('status_reason'),
    /** The store's float (same id as its ledger account): what its cash-ins spend and its cash-outs earn. */
    floatAccountId: uuid('float_account_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('agent_stores_number_key').on(table.storeNumber),
    index('agent_stores_agent_idx').on(table.agentId),
  ],
);

export const OPERATOR_ROLES = ['teller', 'agent_admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];
export const OPERATOR_STATUSES = ['active', 'suspended', 'closed'] as const;

export const agentOperators = pgTable(
  'agent_operators',
  {
    id: uuid('id').primaryKey(),
    agentId: uuid('agent_id').notNull(),
    /** Tellers work at one store; agent admins (null) see every store of their agent. */
    storeId: uuid('store_id'),
    role: text('role', { enum: OPERATOR_ROLES }).notNull(),
    fullName: text('full_name').notNull(),
    /** E.164; the sign-in identifier. */
    phone: text('phone').notNull(),
    /** Tellers sign in with phone + PIN on their bound device. */
    pinHash: text('pin_hash'),
    /** Agent admins sign in with phone + password and a second factor. */
    passwordHash: text('password_hash'),
    status: text('status', { enum: OPERATOR_STATUSES }).notNull().default('active'),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('agent_operators_phone_key').on(table.phone),
    index('agent_operators_agent_idx').on(table.agentId),
    index('agent_operators_store_idx').on(table.storeId),
  ],
);

/** A device bound to an operator: sign-ins are signed with its Ed25519 key. */
export const agentOperatorDevices = pgTable(
  'agent_operator_devices',
  {
    id: uuid('id').primaryKey(),
    operatorId: uuid('operator_id').notNull(),
    deviceId: text('device_id').notNull(),
    /** Ed25519 public key, base64 (raw 32 bytes or SPKI DER). */
    publicKey: text('public_key').notNull(),
    boundBy: uuid('bound_by'),
    boundAt: timestamp('bound_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('agent_operator_devices_active_key')
      .on(table.operatorId, table.deviceId)
      .where(sql`${table.revokedAt} is null`),
  ],
);

export const LOCATION_OUTCOMES = ['inside', 'outside', 'stale'] as const;
export type LocationOutcome = (typeof LOCATION_OUTCOMES)[number];

/** Every geofence check of an operator action, inside or not (the violation rate and the spoofing signals). */
export const agentLocationChecks = pgTable(
  'agent_location_checks',
  {
    id: uuid('id').primaryKey(),
    operatorId: uuid('operator_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    storeId: uuid('store_id').notNull(),
    /** cash_in, cash_out, check_in, check_out, rebalance … */
    action: text('action').notNull(),
    latitude: doublePrecision('latitude').notNull(),
    longitude: doublePrecision('longitude').notNull(),
    accuracyM: doublePrecision('accuracy_m').notNull(),
    fixAt: timestamp('fix_at', { withTimezone: true }).notNull(),
    /** Metres from the fence's edge (negative: inside). */
    distanceM: doublePrecision('distance_m').notNull(),
    outcome: text('outcome', { enum: LOCATION_OUTCOMES }).notNull(),
    /** What the policy did: allowed (inside), flagged (allowed outside) or refused. */
    decision: text('decision', { enum: ['allowed', 'flagged', 'refused'] }).notNull(),
    /** Spoofing signals: implausible_accuracy, impossible_speed, mock_location. */
    signals: jsonb('signals').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    transactionId: uuid('transaction_id'),
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('agent_location_checks_operator_idx').on(table.operatorId, table.checkedAt),
    index('agent_location_checks_agent_idx').on(table.agentId, table.checkedAt),
  ],
);

/** Operator check-in at opening and check-out at closing, with location. */
export const agentShifts = pgTable(
  'agent_shifts',
  {
    id: uuid('id').primaryKey(),
    operatorId: uuid('operator_id').notNull(),
    storeId: uuid('store_id').notNull(),
    checkInAt: timestamp('check_in_at', { withTimezone: true }).notNull(),
    checkInCheckId: uuid('check_in_check_id').notNull(),
    checkOutAt: timestamp('check_out_at', { withTimezone: true }),
    checkOutCheckId: uuid('check_out_check_id'),
  },
  (table) => [
    index('agent_shifts_operator_idx').on(table.operatorId, table.checkInAt),
    uniqueIndex('agent_shifts_open_key').on(table.operatorId).where(sql`${table.checkOutAt} is null`),
  ],
);

export const ALERT_KINDS = ['geofence_repeated', 'spoofing'] as const;

/** Alerts for staff: repeated violations, spoofing signals. */
export const agentAlerts = pgTable(
  'agent_alerts',
  {
    id: uuid('id').primaryKey(),
    agentId: uuid('agent_id').notNull(),
    storeId: uuid('store_id'),
    operatorId: uuid('operator_id'),
    kind: text('kind', { enum: ALERT_KINDS }).notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['open', 'acknowledged'] })
      .notNull()
      .default('open'),
    acknowledgedBy: uuid('acknowledged_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('agent_alerts_agent_idx').on(table.agentId, table.createdAt)],
);

/** A customer's one-time withdrawal code: 6 digits, expiring, bound to one agent number and one amount. */
export const agentWithdrawalCodes = pgTable(
  'agent_withdrawal_codes',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id').notNull(),
    walletId: uuid('wallet_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    /** Keyed hash of the code (never the code). */
    codeHash: text('code_hash').notNull(),
    status: text('status', { enum: ['pending', 'used', 'cancelled', 'expired'] })
      .notNull()
      .default('pending'),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedTransactionId: uuid('used_transaction_id'),
    channel: text('channel').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('agent_withdrawal_codes_hash_key')
      .on(table.agentId, table.codeHash)
      .where(sql`${table.status} = 'pending'`),
    index('agent_withdrawal_codes_customer_idx').on(table.customerId, table.createdAt),
  ],
);

/** An operator-started cash-out waiting for the customer's approval (PIN by push or on a USSD prompt). */
export const agentCashOutRequests = pgTable(
  'agent_cash_out_requests',
  {
    id: uuid('id').primaryKey(),
    operatorId: uuid('operator_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    storeId: uuid('store_id').notNull(),
    customerId: uuid('customer_id').notNull(),
    walletId: uuid('wallet_id').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    status: text('status', { enum: ['pending', 'approved', 'rejected', 'expired', 'completed', 'failed'] })
      .notNull()
      .default('pending'),
    /** The push challenge sent to the customer's app, when there was one. */
    challengeId: text('challenge_id'),
    /** The geofence check of the operator's request, linked to the transaction when the customer approves. */
    locationCheckId: uuid('location_check_id'),
    transactionId: uuid('transaction_id'),
    failureCode: text('failure_code'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('agent_cash_out_requests_customer_idx').on(table.customerId, table.status)],
);

/** What an agent moved per UTC day (cash-in + cash-out value and count): the daily limit holds exactly. */
export const agentUsage = pgTable(
  'agent_usage',
  {
    agentId: uuid('agent_id').notNull(),
    /** `d:2026-12-07` */
    period: text('period').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull().default(sql`0`),
    count: integer('count').notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.agentId, table.period] })],
);

/** A float top-up from a bank deposit: the agent deposits at the bank, staff confirm with the CBS reference. */
export const agentFloatDeposits = pgTable(
  'agent_float_deposits',
  {
    id: uuid('id').primaryKey(),
    agentId: uuid('agent_id').notNull(),
    /** The store credited (null: the agent's own float). */
    storeId: uuid('store_id'),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    /** The deposit's reference in the core banking system (Fineract transaction id or receipt). */
    bankReference: text('bank_reference').notNull(),
    status: text('status', { enum: ['pending', 'confirmed', 'rejected'] })
      .notNull()
      .default('pending'),
    requestedByType: text('requested_by_type').notNull(),
    requestedById: uuid('requested_by_id'),
    decidedBy: uuid('decided_by'),
    decisionReason: text('decision_reason'),
    transactionId: uuid('transaction_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('agent_float_deposits_reference_key').on(table.bankReference)],
);

/** A band of a commission plan: amounts from..to (inclusive, minor units), a fixed amount, a percentage, or both. */
export interface CommissionBand {
  from_minor: string;
  /** Null: no upper bound. */
  to_minor: string | null;
  fixed_minor: string;
  percent_bps: number;
}

/** Commission plans: per transaction type, amount bands; split between super-agent and agent. */
export const agentCommissionPlans = pgTable(
  'agent_commission_plans',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    /** By transaction type (cash_in, cash_out): its bands, in ascending order. */
    rules: jsonb('rules').$type<Record<string, CommissionBand[]>>().notNull(),
    /** The super-agent's share of each commission, basis points (the rest is the agent's). */
    superAgentShareBps: integer('super_agent_share_bps').notNull().default(0),
    isDefault: boolean('is_default').notNull().default(false),
    /** Where payouts go: the agent's float, or the owner's customer wallet in the plan's currency. */
    payoutDestination: text('payout_destination', { enum: ['float', 'wallet'] })
      .notNull()
      .default('float'),
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('agent_commission_plans_code_key').on(table.code),
    uniqueIndex('agent_commission_plans_default_key').on(table.currency).where(sql`${table.isDefault}`),
  ],
);

/** A commission accrued by one transaction to one beneficiary (the agent, or its super-agent). */
export const agentCommissions = pgTable(
  'agent_commissions',
  {
    id: uuid('id').primaryKey(),
    transactionId: uuid('transaction_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    /** The agent whose transaction earned it (differs from agentId for a super-agent's share). */
    sourceAgentId: uuid('source_agent_id').notNull(),
    transactionType: text('transaction_type').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    status: text('status', { enum: ['accrued', 'paid', 'clawed_back'] })
      .notNull()
      .default('accrued'),
    payoutId: uuid('payout_id'),
    clawbackTransactionId: uuid('clawback_transaction_id'),
    accruedAt: timestamp('accrued_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('agent_commissions_transaction_agent_key').on(table.transactionId, table.agentId),
    index('agent_commissions_agent_idx').on(table.agentId, table.status, table.accruedAt),
  ],
);

/** A payout of accrued commissions for a period, with its statement. */
export const agentCommissionPayouts = pgTable(
  'agent_commission_payouts',
  {
    id: uuid('id').primaryKey(),
    agentId: uuid('agent_id').notNull(),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    periodEnd: timestamp('period_end', { withTimezone: true }).notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    /** float: into the agent's float; wallet: into the owner's wallet. */
    destination: text('destination', { enum: ['float', 'wallet'] }).notNull(),
    transactionId: uuid('transaction_id'),
    commissionCount: integer('commission_count').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('agent_commission_payouts_period_key').on(table.agentId, table.periodStart, table.periodEnd),
  ],
);

/** Each completed cash-in and cash-out, written in its posting's transaction: agent performance reads these. */
export const agentCashMovements = pgTable(
  'agent_cash_movements',
  {
    transactionId: uuid('transaction_id').primaryKey(),
    agentId: uuid('agent_id').notNull(),
    storeId: uuid('store_id').notNull(),
    operatorId: uuid('operator_id'),
    customerId: uuid('customer_id').notNull(),
    type: text('type').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('agent_cash_movements_agent_idx').on(table.agentId, table.createdAt)],
);
