/**
 * The application-fraud rules. Each reads what it needs inside the check's transaction (applications, earlier checks,
 * deny lists, other modules' functions taking the executor: FraudSources) or from what was read before it (the
 * prefetch: devices, wallet, KYC decisions, the provider's answer), and answers whether it tripped with its evidence
 * (JSON-safe: money as decimal strings of minor units). A rule's windows end at the application's submission, except
 * the phone-owner rule's, which ends now (a SIM swap after applying is as telling as one before).
 */
import { and, count, countDistinct, eq, gt, inArray, lt, ne, notExists, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { type FraudSources, walletCredits } from './loans.fraud.sources.ts';
import { type FraudRuleCode, loanDenyList, loanFraudChecks } from './loans.fraud.tables.ts';
import type { FraudPrefetch, OwnershipResult } from './loans.ports.ts';
import { loanApplications, loans } from './loans.tables.ts';

export interface ApplicationFacts {
  id: string;
  number: string;
  customerId: string;
  productId: string;
  currency: string;
  declaredMonthlyIncomeMinor: bigint;
  deviceId: string | null;
  status: string;
  createdAt: Date;
}

/** The applicant's identifiers when checked (stored with the check). */
export interface Identifiers {
  nationalIdIndex: string | null;
  phone: string | null;
  deviceId: string | null;
}

export interface RuleInput {
  tx: Executor;
  application: ApplicationFacts;
  identifiers: Identifiers;
  params: Record<string, unknown>;
  /** Only its functions that take an executor, with `tx`. */
  sources: FraudSources;
  prefetched: FraudPrefetch;
  now: Date;
}

export interface RuleOutcome {
  tripped: boolean;
  evidence: Record<string, unknown>;
}

type ParamKind = { type: 'integer'; min: number; max: number } | { type: 'minor' } | { type: 'ratio' };

interface RuleDefinition {
  description: string;
  weight: number;
  params: Record<string, unknown>;
  spec: Record<string, ParamKind>;
  run(input: RuleInput): Promise<RuleOutcome>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const OPEN_STATES = ['submitted', 'flagged', 'referred'] as const;

/** An application still in play: not decided against, and if approved, its loan not yet disbursed. */
function isOpen() {
  return or(
    inArray(loanApplications.status, [...OPEN_STATES]),
    and(
      eq(loanApplications.status, 'approved'),
      notExists(
        sql`(select 1 from ${loans} where ${loans.applicationId} = ${loanApplications.id} and ${loans.status} <> 'approved')`,
      ),
    ),
  );
}

const int = (params: Record<string, unknown>, key: string) => Number(params[key]);
const minor = (params: Record<string, unknown>, key: string) => BigInt(String(params[key]));
/** A ratio as hundredths ("1.5" → 150n). */
const hundredths = (text: string) => {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
};

async function duplicateApplication({ tx, application, identifiers }: RuleInput): Promise<RuleOutcome> {
  const sameProduct = await tx
    .select({ id: loanApplications.id, number: loanApplications.number, status: loanApplications.status })
    .from(loanApplications)
    .where(
      and(
        eq(loanApplications.customerId, application.customerId),
        eq(loanApplications.productId, application.productId),
        ne(loanApplications.id, application.id),
        isOpen(),
      ),
    )
    .limit(10);
  // The unique blind index keeps two live customers from sharing an ID; an erased or re-registered identity still
  // shows through the identifiers earlier checks recorded.
  const sameNationalId = identifiers.nationalIdIndex
    ? await tx
        .selectDistinct({
          id: loanApplications.id,
          number: loanApplications.number,
          customer_id: loanApplications.customerId,
        })
        .from(loanFraudChecks)
        .innerJoin(loanApplications, eq(loanApplications.id, loanFraudChecks.applicationId))
        .where(
          and(
            eq(loanFraudChecks.nationalIdIndex, identifiers.nationalIdIndex),
            ne(loanApplications.customerId, application.customerId),
          ),
        )
        .limit(10)
    : [];
  return {
    tripped: sameProduct.length > 0 || sameNationalId.length > 0,
    evidence: { open_same_product: sameProduct, same_national_id_other_customer: sameNationalId },
  };
}

async function velocity({ tx, application, identifiers, params }: RuleInput): Promise<RuleOutcome> {
  const max = int(params, 'max_applications');
  const windowHours = int(params, 'window_hours');
  // Up to and including the application itself (the database keeps microseconds, a Date milliseconds).
  const until = new Date(application.createdAt.getTime() + 1);
  const from = new Date(application.createdAt.getTime() - windowHours * HOUR_MS);
  const inWindow = and(gt(loanApplications.createdAt, from), lt(loanApplications.createdAt, until));
  const [byCustomer] = await tx
    .select({ n: count() })
    .from(loanApplications)
    .where(and(eq(loanApplications.customerId, application.customerId), inWindow));
  let byDevice = 0;
  if (application.deviceId) {
    const [row] = await tx
      .select({ n: count() })
      .from(loanApplications)
      .where(and(eq(loanApplications.deviceId, application.deviceId), inWindow));
    byDevice = row?.n ?? 0;
  }
  let byPhone = 0;
  if (identifiers.phone) {
    const [row] = await tx
      .select({ n: countDistinct(loanFraudChecks.applicationId) })
      .from(loanFraudChecks)
      .innerJoin(loanApplications, eq(loanApplications.id, loanFraudChecks.applicationId))
      .where(
        and(
          eq(loanFraudChecks.phone, identifiers.phone),
          ne(loanFraudChecks.applicationId, application.id),
          inWindow,
        ),
      );
    byPhone = (row?.n ?? 0) + 1;
  }
  const counts = { by_customer: byCustomer?.n ?? 0, by_device: byDevice, by_phone: byPhone };
  return {
    tripped: Object.values(counts).some((n) => n > max),
    evidence: { window_hours: windowHours, max_applications: max, ...counts },
  };
}

async function phoneOwner({
  tx,
  application,
  identifiers,
  params,
  sources,
  prefetched,
  now,
}: RuleInput): Promise<RuleOutcome> {
  const days = int(params, 'days');
  const since = new Date(now.getTime() - days * DAY_MS);
  const recent = (at: Date | null) => at !== null && at > since;
  if (!identifiers.phone)
    return { tripped: true, evidence: { days, phone: null, problem: 'no phone on file' } };
  let providerError: string | null = null;
  if (prefetched.ownership) {
    // Asked before the transaction; a phone changed since then was not the one asked about.
    const answer: OwnershipResult =
      prefetched.ownership.phone === identifiers.phone
        ? prefetched.ownership.result
        : { kind: 'error', error: 'the phone on file changed while the check ran' };
    if (answer.kind === 'answer') {
      const { ownerMatch, simSwapAt, deviceChangeAt } = answer;
      return {
        tripped: ownerMatch === false || recent(simSwapAt) || recent(deviceChangeAt),
        evidence: {
          source: 'provider',
          days,
          phone: identifiers.phone,
          owner_match: ownerMatch,
          sim_swap_at: simSwapAt?.toISOString() ?? null,
          device_change_at: deviceChangeAt?.toISOString() ?? null,
        },
      };
    }
    if (answer.kind === 'unknown_number')
      return {
        tripped: true,
        evidence: {
          source: 'provider',
          days,
          phone: identifiers.phone,
          problem: 'the operator has no subscriber',
        },
      };
    // The provider could not answer: our own data decides, and the evidence says why.
    providerError = answer.error;
  }
  const verified = await sources.phoneVerified(tx, application.customerId);
  const newDevices = prefetched.devices.filter((device) => device.createdAt > since);
  return {
    tripped: !verified || newDevices.length > 0,
    evidence: {
      source: 'own_data',
      provider_error: providerError,
      days,
      phone: identifiers.phone,
      phone_verified: verified,
      devices_registered_within_days: newDevices.map((device) => ({
        device_id: device.deviceId,
        registered_at: device.createdAt.toISOString(),
      })),
    },
  };
}

async function incomeVerification({ tx, application, params, prefetched }: RuleInput): Promise<RuleOutcome> {
  const days = int(params, 'days');
  const ratio = String(params.ratio);
  const walletId = prefetched.walletId;
  const until = application.createdAt;
  const credits = walletId
    ? await walletCredits(tx, walletId, new Date(until.getTime() - days * DAY_MS), until)
    : [];
  const total = credits.reduce((sum, credit) => sum + credit.amount, 0n);
  const monthlyAverage = (total * 30n) / BigInt(days);
  const declared = application.declaredMonthlyIncomeMinor;
  return {
    tripped: declared * 100n > hundredths(ratio) * monthlyAverage,
    evidence: {
      days,
      ratio,
      wallet_id: walletId,
      declared_monthly_income_minor: declared.toString(),
      observed_inflow_minor: total.toString(),
      observed_monthly_average_minor: monthlyAverage.toString(),
      inflows_counted: credits.length,
    },
  };
}

async function knownPatterns({
  tx,
  application,
  identifiers,
  params,
  prefetched,
}: RuleInput): Promise<RuleOutcome> {
  const probes = [
    identifiers.nationalIdIndex
      ? and(eq(loanDenyList.kind, 'national_id_index'), eq(loanDenyList.value, identifiers.nationalIdIndex))
      : undefined,
    identifiers.phone
      ? and(eq(loanDenyList.kind, 'phone'), eq(loanDenyList.value, identifiers.phone))
      : undefined,
    identifiers.deviceId
      ? and(eq(loanDenyList.kind, 'device'), eq(loanDenyList.value, identifiers.deviceId))
      : undefined,
  ].filter((probe) => probe !== undefined);
  const denyHits =
    probes.length === 0
      ? []
      : await tx
          .select({
            id: loanDenyList.id,
            kind: loanDenyList.kind,
            reason: loanDenyList.reason,
            case_id: loanDenyList.caseId,
          })
          .from(loanDenyList)
          .where(or(...probes));

  const maxCustomers = int(params, 'shared_device_max_customers');
  let deviceCustomers = 0;
  if (application.deviceId) {
    const [row] = await tx
      .select({ n: countDistinct(loanApplications.customerId) })
      .from(loanApplications)
      .where(eq(loanApplications.deviceId, application.deviceId));
    deviceCustomers = row?.n ?? 0;
  }

  const windowHours = int(params, 'kyc_window_hours');
  const largeInbound = minor(params, 'large_inbound_minor');
  const until = application.createdAt;
  const from = new Date(until.getTime() - windowHours * HOUR_MS);
  const upgrade = prefetched.kycApprovals.find((decidedAt) => decidedAt > from && decidedAt <= until);
  let large: { amount: bigint; at: Date } | undefined;
  if (upgrade) {
    const walletId = prefetched.walletId;
    const credits = walletId ? await walletCredits(tx, walletId, from, until) : [];
    large = credits.find((credit) => credit.amount >= largeInbound);
  }
  const sharedDevice = deviceCustomers > maxCustomers;
  const upgradeAndInflow = upgrade !== undefined && large !== undefined;
  return {
    tripped: denyHits.length > 0 || sharedDevice || upgradeAndInflow,
    evidence: {
      deny_list_hits: denyHits,
      device_id: application.deviceId,
      device_customers: deviceCustomers,
      shared_device_max_customers: maxCustomers,
      kyc_window_hours: windowHours,
      kyc_upgraded_at: upgrade?.toISOString() ?? null,
      large_inbound_minor: largeInbound.toString(),
      large_inbound: large ? { amount_minor: large.amount.toString(), at: large.at.toISOString() } : null,
      kyc_upgrade_then_large_inbound: upgradeAndInflow,
    },
  };
}

/** The rules with their seeded defaults (the weights add up against a product's `fraud_threshold`, 100 typically). */
export const RULES: Record<FraudRuleCode, RuleDefinition> = {
  duplicate_application: {
    description:
      'An open application of the same customer for the same product, or the same national ID under another customer',
    weight: 60,
    params: {},
    spec: {},
    run: duplicateApplication,
  },
  velocity: {
    description: 'More than max_applications within window_hours by the customer, the device or the phone',
    weight: 40,
    params: { max_applications: 3, window_hours: 24 },
    spec: {
      max_applications: { type: 'integer', min: 1, max: 1000 },
      window_hours: { type: 'integer', min: 1, max: 720 },
    },
    run: velocity,
  },
  phone_owner: {
    description:
      'The phone is not the applicant’s, or its SIM or handset changed within days (the provider, else our own ' +
      'phone verification and registered devices)',
    weight: 40,
    params: { days: 30 },
    spec: { days: { type: 'integer', min: 1, max: 365 } },
    run: phoneOwner,
  },
  income_verification: {
    description: 'Declared monthly income above ratio × the wallet’s average monthly inflow over days',
    weight: 30,
    params: { days: 90, ratio: '2' },
    spec: { days: { type: 'integer', min: 30, max: 365 }, ratio: { type: 'ratio' } },
    run: incomeVerification,
  },
  known_patterns: {
    description:
      'A deny-listed national ID, phone or device; a device used by more than shared_device_max_customers ' +
      'customers; an application within kyc_window_hours of a KYC upgrade and an inflow of large_inbound_minor',
    weight: 100,
    params: { shared_device_max_customers: 2, kyc_window_hours: 72, large_inbound_minor: '10000000' },
    spec: {
      shared_device_max_customers: { type: 'integer', min: 1, max: 1000 },
      kyc_window_hours: { type: 'integer', min: 1, max: 720 },
      large_inbound_minor: { type: 'minor' },
    },
    run: knownPatterns,
  },
};

/** The first problem with a rule's parameters (unknown key, wrong type, out of range), or null. */
export function paramsProblem(
  code: FraudRuleCode,
  params: Record<string, unknown>,
): { field: string; problem: string } | null {
  const spec = RULES[code].spec;
  for (const key of Object.keys(params))
    if (!(key in spec)) return { field: key, problem: `${key} is not a parameter of this rule` };
  for (const [key, kind] of Object.entries(spec)) {
    const value = params[key];
    if (value === undefined) return { field: key, problem: `${key} is required` };
    if (kind.type === 'integer') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < kind.min || value > kind.max)
        return { field: key, problem: `${key} must be an integer from ${kind.min} to ${kind.max}` };
    } else if (kind.type === 'minor') {
      if (typeof value !== 'string' || !/^\d{1,18}$/.test(value))
        return { field: key, problem: `${key} must be a decimal string of minor units` };
    } else if (
      typeof value !== 'string' ||
      !/^\d{1,4}(\.\d{1,2})?$/.test(value) ||
      hundredths(value) === 0n
    ) {
      return { field: key, problem: `${key} must be a positive decimal string with at most 2 decimals` };
    }
  }
  return null;
}
