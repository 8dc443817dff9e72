/** The topics the loans module publishes (docs/events.md is generated from them). */
import { Type } from 'typebox';
import { defineTopic, MinorUnits } from '../../platform/events.ts';

export const loanApplicationSubmitted = defineTopic(
  'loans.application_submitted',
  1,
  Type.Object(
    {
      application_id: Type.String(),
      number: Type.String(),
      customer_id: Type.String(),
      product_id: Type.String(),
      amount_minor: MinorUnits(),
      currency: Type.String(),
    },
    { additionalProperties: false },
  ),
  'A loan application was submitted (by the customer or by staff on their behalf).',
);

export const loanApplicationDecided = defineTopic(
  'loans.application_decided',
  1,
  Type.Object(
    {
      application_id: Type.String(),
      number: Type.String(),
      customer_id: Type.String(),
      status: Type.String(),
      /** Adverse-action reasons for a decline. */
      reasons: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
    },
    { additionalProperties: false },
  ),
  'An application was approved, declined, flagged for fraud investigation or referred to a loan officer.',
);

export const loanDisbursed = defineTopic(
  'loans.loan_disbursed',
  1,
  Type.Object(
    {
      loan_id: Type.String(),
      number: Type.String(),
      customer_id: Type.String(),
      wallet_id: Type.String(),
      principal_minor: MinorUnits(),
      /** What reached the wallet (the principal less a deducted upfront fee). */
      net_minor: MinorUnits(),
      currency: Type.String(),
      first_due_date: Type.String(),
    },
    { additionalProperties: false },
  ),
  'A loan was disbursed to the customer’s wallet.',
);

export const loanRepaymentReceived = defineTopic(
  'loans.repayment_received',
  1,
  Type.Object(
    {
      loan_id: Type.String(),
      number: Type.String(),
      customer_id: Type.String(),
      transaction_id: Type.String(),
      /** repayment (customer or staff) or auto_collection. */
      type: Type.String(),
      amount_minor: MinorUnits(),
      currency: Type.String(),
      outstanding_minor: MinorUnits(),
    },
    { additionalProperties: false },
  ),
  'Money was applied to a loan (a repayment by the customer or staff, or an automatic collection).',
);

export const loanClosed = defineTopic(
  'loans.loan_closed',
  1,
  Type.Object(
    {
      loan_id: Type.String(),
      number: Type.String(),
      customer_id: Type.String(),
      /** closed (repaid) or written_off. */
      status: Type.String(),
    },
    { additionalProperties: false },
  ),
  'A loan was repaid in full, or written off.',
);

export const loansTopics = [
  loanApplicationSubmitted,
  loanApplicationDecided,
  loanDisbursed,
  loanRepaymentReceived,
  loanClosed,
];
