/** How a loan application is shown: staff see the fraud score, device and who acted; customers do not. */
import type { Static } from 'typebox';
import type { Principal } from '../../platform/http.ts';
import type { LoadedApplication } from './loans.applications.repository.ts';
import type { ApplicationView as ApplicationViewSchema } from './loans.applications.schemas.ts';

/** What every application answer holds; the staff-only fields are left out for customers. */
export type ApplicationView = Static<typeof ApplicationViewSchema>;

export function applicationView({
  application: row,
  productCode,
  loanId,
}: LoadedApplication): ApplicationView {
  return {
    id: row.id,
    number: row.number,
    customer_id: row.customerId,
    product_id: row.productId,
    product_code: productCode,
    product_version: row.productVersion,
    amount_minor: row.amountMinor,
    currency: row.currency,
    term: row.term,
    purpose: row.purpose,
    declared_monthly_income_minor: row.declaredMonthlyIncomeMinor,
    status: row.status,
    channel: row.channel,
    document_ids: row.documentIds,
    fraud_score: row.fraudScore,
    device_id: row.deviceId,
    decision: row.decision,
    ...(row.recommendedLimitMinor === null ? {} : { recommended_limit_minor: row.recommendedLimitMinor }),
    // Adverse-action reasons belong to a decline; an application declined after a fraud investigation has them too.
    decline_reasons: row.status === 'declined' ? (row.declineReasons ?? []) : null,
    loan_id: loanId,
    submitted_by: { type: row.submittedByType, id: row.submittedById },
    decided_by_id: row.decidedById,
    decided_at: row.decidedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/**
 * What the principal may see of the view: customers never see the fraud score, device or staff ids, and an
 * application held for a fraud investigation reads as `referred` to them (in review; a suspicion is never announced).
 */
export function applicationViewFor(
  view: ApplicationView,
  principal: Pick<Principal, 'type'>,
): ApplicationView {
  if (principal.type !== 'customer') return view;
  const {
    fraud_score: _score,
    device_id: _device,
    submitted_by: _by,
    decided_by_id: _decider,
    ...shown
  } = view;
  return { ...shown, status: shown.status === 'flagged' ? 'referred' : shown.status };
}
