/**
 * The loans module's part in a customer's erasure (the customers module's `addErasureCheck` and its
 * `customers.customer_erased` topic; wired in index.ts).
 *
 * Before: a customer who owes a loan (approved and not yet disbursed, or active) or has an application still being
 * decided (submitted, flagged, referred) is not erased; each one is a reason in the refusal.
 *
 * After: the identifiers the fraud checks copied from the customer are forgotten: the phone, the national ID's blind
 * index and the device on each check (`loan_fraud_checks`), the phones and devices inside the rules' evidence
 * (`loan_fraud_results.evidence`: phones masked, devices nulled), and the device each application came from. The
 * applications, loans and scores stay: they are financial records the law requires keeping, and hold no contact
 * data. Entries staff put on the deny list (`loan_deny_list`) stay too: a deny list is kept on a legitimate-interest
 * basis (preventing fraud), which erasure does not override.
 */
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { DomainEvent } from '../../platform/events.ts';
import type { customerErased } from '../customers/index.ts';
import { loanFraudChecks, loanFraudResults } from './loans.fraud.tables.ts';
import { loanApplications, loans } from './loans.tables.ts';

const OWED_LOAN_STATES = ['approved', 'active'] as const;
const UNDECIDED_APPLICATION_STATES = ['submitted', 'flagged', 'referred'] as const;

/** What refuses the customer's erasure here, one reason per loan or application; on `tx` only. */
export async function loanErasureObligations(tx: Executor, customerId: string): Promise<string[]> {
  const owed = await tx
    .select({ number: loans.number, status: loans.status })
    .from(loans)
    .where(and(eq(loans.customerId, customerId), inArray(loans.status, [...OWED_LOAN_STATES])))
    .orderBy(loans.number);
  const open = await tx
    .select({ number: loanApplications.number, status: loanApplications.status })
    .from(loanApplications)
    .where(
      and(
        eq(loanApplications.customerId, customerId),
        inArray(loanApplications.status, [...UNDECIDED_APPLICATION_STATES]),
      ),
    )
    .orderBy(loanApplications.number);
  return [
    ...owed.map((loan) =>
      loan.status === 'active'
        ? `loan ${loan.number} is active (not repaid)`
        : `loan ${loan.number} is approved and not yet disbursed`,
    ),
    ...open.map((application) => `loan application ${application.number} is ${application.status}`),
  ];
}

/** +254****78: a country an analyst can still read, not a number anyone can dial or match. */
export function maskErasedPhone(phone: string): string {
  return phone.length <= 6 ? '****' : `${phone.slice(0, 4)}****${phone.slice(-2)}`;
}

/** The evidence with every `phone` masked and every `device_id` nulled, at any depth (idempotent). */
export function forgetEvidence(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(forgetEvidence);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'phone' && typeof inner === 'string') out[key] = maskErasedPhone(inner);
    else if (key === 'device_id' && typeof inner === 'string') out[key] = null;
    else out[key] = forgetEvidence(inner);
  }
  return out;
}

/**
 * The handler of `customers.customer_erased`: forgets the customer's identifiers in the fraud data. Running it twice
 * changes nothing the first run did not (nulls stay null, masked phones mask to themselves).
 */
export async function forgetErasedCustomer(
  tx: Executor,
  event: DomainEvent<typeof customerErased>,
): Promise<void> {
  const customerId = event.payload.customer_id;
  const checks = await tx
    .update(loanFraudChecks)
    .set({ phone: null, nationalIdIndex: null, deviceId: null })
    .where(eq(loanFraudChecks.customerId, customerId))
    .returning({ id: loanFraudChecks.id });
  if (checks.length > 0) {
    const results = await tx
      .select({
        checkId: loanFraudResults.checkId,
        ruleCode: loanFraudResults.ruleCode,
        evidence: loanFraudResults.evidence,
      })
      .from(loanFraudResults)
      .where(
        inArray(
          loanFraudResults.checkId,
          checks.map((check) => check.id),
        ),
      );
    for (const result of results) {
      const forgotten = forgetEvidence(result.evidence) as Record<string, unknown>;
      if (JSON.stringify(forgotten) === JSON.stringify(result.evidence)) continue;
      await tx
        .update(loanFraudResults)
        .set({ evidence: forgotten })
        .where(
          and(eq(loanFraudResults.checkId, result.checkId), eq(loanFraudResults.ruleCode, result.ruleCode)),
        );
    }
  }
  await tx
    .update(loanApplications)
    .set({ deviceId: null })
    .where(and(eq(loanApplications.customerId, customerId), isNotNull(loanApplications.deviceId)));
}
