/**
 * Error codes of the loans module's repayments area (repayments, payoff quotes, automatic collection); joined into
 * one catalogue by loans.errors.ts. A loan the caller may not see is the generic NOT_FOUND; a missing or misplaced
 * field is VALIDATION_ERROR with the field named.
 */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const repaymentErrorDefinitions = {
  LOAN_NOT_REPAYABLE: {
    status: 409,
    message: 'Loan {number} is {status}: it takes no repayment',
    description:
      'Only an active (disbursed, not yet repaid or written off) loan takes repayments and payoff quotes.',
  },
  LOAN_NOTHING_DUE: {
    status: 409,
    message: 'Nothing is due on loan {number} now',
    description:
      'No instalment is due yet and the product returns overpayments to the wallet, so there is nothing to take. ' +
      'Use the payoff quote to repay the whole loan early.',
  },
  LOAN_REPAYMENT_INSUFFICIENT_FUNDS: {
    status: 409,
    message: 'The wallet holds less than the repayment',
    description:
      'The customer’s wallet does not hold the amount to be taken (`details.required`, `details.available`); ' +
      'a repayment never overdraws the wallet. Nothing was taken.',
    example: {
      message: 'The wallet holds less than the repayment',
      details: { required: 500000, available: 120000 },
    },
  },
} as const satisfies ErrorDefinitions;
