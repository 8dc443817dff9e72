/**
 * What a repayment answers (the loan transaction with its split and what the loan still owes), who may pay from
 * where, and the business date repayments and collections run on.
 */
import { commonErrors } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import { walletErrors } from '../wallets/index.ts';
import type { PaymentPlan, RepaymentKind } from './loans.repayments.plan.ts';
import type { LoanTransactionRow } from './loans.repayments.repository.ts';
import type { RepaymentInput, RepaymentSource } from './loans.repayments.schemas.ts';

/** Today's business date: the UTC calendar date. */
export function businessDate(at: Date = new Date()): string {
  return at.toISOString().slice(0, 10);
}

/** The end of a business date (UTC), until which a payoff quote holds. */
export function endOf(date: string): string {
  return `${date}T23:59:59.999Z`;
}

export interface RepaymentResult {
  id: string;
  loan_id: string;
  loan_number: string;
  customer_id: string;
  type: RepaymentKind;
  source: RepaymentSource;
  requested_minor: bigint;
  amount_minor: bigint;
  refunded_minor: bigint;
  currency: string;
  allocation: {
    penalty_minor: bigint;
    fee_minor: bigint;
    interest_minor: bigint;
    principal_minor: bigint;
    prepayment_minor: bigint;
  };
  outstanding_minor: bigint;
  loan_status: string;
  business_date: string;
  external_reference: string | null;
  created_at: string;
}

export function view(
  row: LoanTransactionRow,
  loan: { id: string; number: string; currency: string; customerId: string },
  kind: RepaymentKind,
  requested: bigint,
  plan: PaymentPlan,
  outstanding: bigint,
  status: string,
): RepaymentResult {
  return {
    id: row.id,
    loan_id: loan.id,
    loan_number: loan.number,
    customer_id: loan.customerId,
    type: kind,
    source: (row.source ?? 'wallet') as RepaymentSource,
    requested_minor: requested,
    amount_minor: row.amountMinor,
    refunded_minor: plan.refund,
    currency: loan.currency,
    allocation: {
      penalty_minor: plan.parts.penalty,
      fee_minor: plan.parts.fee,
      interest_minor: plan.parts.interest,
      principal_minor: plan.parts.principal,
      prepayment_minor: plan.prepayment,
    },
    outstanding_minor: outstanding,
    loan_status: status,
    business_date: row.businessDate,
    external_reference: row.externalReference,
    created_at: row.createdAt.toISOString(),
  };
}

/** Customers pay from their wallet; staff record cash or bank with its reference. */
export function sourceOf(principal: Principal, input: RepaymentInput): RepaymentSource {
  if (principal.type === 'customer') {
    if (input.source && input.source !== 'wallet')
      throw commonErrors.validation('Customers repay from their wallet', {
        errors: [{ field: 'body.source', message: 'must be wallet' }],
      });
    return 'wallet';
  }
  if (input.source !== 'cash' && input.source !== 'bank')
    throw commonErrors.validation('Staff record a cash or bank payment', {
      errors: [{ field: 'body.source', message: 'must be cash or bank' }],
    });
  if (!input.external_reference)
    throw commonErrors.validation('external_reference is required for cash and bank payments', {
      errors: [{ field: 'body.external_reference', message: 'is required' }],
    });
  return input.source;
}

/** The loan's wallet is frozen or closed: nothing can be taken from it. */
export function notRepayableFrom(status: string) {
  return walletErrors.frozen(status);
}
