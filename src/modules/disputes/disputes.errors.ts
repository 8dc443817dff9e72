/**
 * The disputes module's closed set of error codes. Reversals also refuse with the transaction module's codes
 * (NOT_REVERSIBLE, COUNTERPARTY_INSUFFICIENT_FUNDS), and a refund by whoever opened the dispute with the approvals
 * module's OWN_REQUEST, each through its module's index.ts.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';
import { approvalErrorCatalogue } from '../approvals/index.ts';
import { transactionErrorCatalogue } from '../transactions/index.ts';

const definitions = {
  NOT_DISPUTABLE: {
    status: 422,
    message: 'A {type} transaction cannot be disputed',
    description: 'Transactions of this type cannot be disputed.',
  },
  NOT_DISPUTABLE_STATUS: {
    status: 409,
    message: 'A {status} transaction cannot be disputed',
    description: 'Only a completed transaction can be disputed.',
  },
  DISPUTE_WINDOW_CLOSED: {
    status: 422,
    message: 'Payments can be disputed within {window_days} days',
    description: 'The dispute window of the payment has closed.',
  },
  DISPUTE_EXISTS: {
    status: 409,
    message: 'This transaction already has a dispute',
    description: 'The transaction already has a dispute.',
  },
  DISPUTE_CLOSED: {
    status: 409,
    message: 'The dispute was already decided ({status})',
    description: 'The dispute was already decided.',
  },
  DISPUTE_NOT_OPEN: {
    status: 409,
    message: 'Only an open dispute can be taken into investigation',
    description: 'Only an open dispute can be taken into investigation.',
  },
  DISPUTE_OPEN: {
    status: 409,
    message: 'The transaction has an open dispute; resolve the dispute instead',
    description: 'The transaction has an open dispute; resolve the dispute instead.',
  },
  ALREADY_REFUNDED: {
    status: 409,
    message: 'The transaction was already refunded through a dispute',
    description: 'The transaction was already refunded through a dispute.',
  },
  HOLD_CHANGED: {
    status: 409,
    message: 'The dispute hold changed while resolving; try again',
    description: 'The dispute hold changed while resolving; try again.',
    retryAfter: true,
  },
} as const satisfies ErrorDefinitions;

type DisputeErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends DisputeErrorCodes {}
}

export const disputeErrorCatalogue = defineErrors('disputes', definitions);
const codes = disputeErrorCatalogue;

export const disputeErrors = {
  ownRefund: () =>
    approvalErrorCatalogue.OWN_REQUEST({
      message: 'Whoever opened a dispute on the payer’s behalf cannot also refund it',
    }),
  notFound: () => commonErrors.notFound('Dispute'),
  transactionNotFound: () => commonErrors.notFound('Transaction'),
  notDisputableType: (type: string) => codes.NOT_DISPUTABLE({ params: { type }, details: { type } }),
  notDisputableStatus: (status: string) =>
    codes.NOT_DISPUTABLE_STATUS({ params: { status }, details: { status } }),
  windowClosed: (windowDays: number, closedAt: Date) =>
    codes.DISPUTE_WINDOW_CLOSED({
      params: { window_days: windowDays },
      details: { window_days: windowDays, closed_at: closedAt.toISOString() },
    }),
  exists: (disputeId: string | null, status: string | null) =>
    codes.DISPUTE_EXISTS({ details: { dispute_id: disputeId, status } }),
  closed: (status: string) => codes.DISPUTE_CLOSED({ params: { status }, details: { status } }),
  notOpen: (status: string) => codes.DISPUTE_NOT_OPEN({ details: { status } }),
  holdChanged: () => codes.HOLD_CHANGED({ headers: { 'retry-after': '1' } }),
  counterpartyFunds: (required: bigint, available: bigint) =>
    transactionErrorCatalogue.COUNTERPARTY_INSUFFICIENT_FUNDS({
      message: 'The recipient no longer holds enough to refund the rest of the amount',
      details: { required, available, deficit: required - available },
    }),
  /** Reversals. */
  notReversibleType: (type: string) =>
    transactionErrorCatalogue.NOT_REVERSIBLE({
      message: `${type} transactions cannot be reversed`,
      details: { type },
    }),
  disputeOpen: (disputeId: string) => codes.DISPUTE_OPEN({ details: { dispute_id: disputeId } }),
  alreadyRefunded: (disputeId: string) => codes.ALREADY_REFUNDED({ details: { dispute_id: disputeId } }),
};
