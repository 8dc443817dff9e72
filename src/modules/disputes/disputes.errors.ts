/** The disputes module's closed set of error codes (reversal codes shared with the transaction module). */
import { AppError } from '../../platform/errors.ts';

export const disputeErrors = {
  ownRefund: () =>
    new AppError(403, 'OWN_REQUEST', 'Whoever opened a dispute on the payer’s behalf cannot also refund it'),
  notFound: () => new AppError(404, 'NOT_FOUND', 'Dispute not found'),
  transactionNotFound: () => new AppError(404, 'NOT_FOUND', 'Transaction not found'),
  notDisputableType: (type: string) =>
    new AppError(422, 'NOT_DISPUTABLE', `A ${type} transaction cannot be disputed`, { type }),
  notDisputableStatus: (status: string) =>
    new AppError(409, 'NOT_DISPUTABLE_STATUS', `A ${status} transaction cannot be disputed`, { status }),
  windowClosed: (windowDays: number, closedAt: Date) =>
    new AppError(422, 'DISPUTE_WINDOW_CLOSED', `Payments can be disputed within ${windowDays} days`, {
      window_days: windowDays,
      closed_at: closedAt.toISOString(),
    }),
  exists: (disputeId: string | null, status: string | null) =>
    new AppError(409, 'DISPUTE_EXISTS', 'This transaction already has a dispute', {
      dispute_id: disputeId,
      status,
    }),
  closed: (status: string) =>
    new AppError(409, 'DISPUTE_CLOSED', `The dispute was already decided (${status})`, { status }),
  notOpen: (status: string) =>
    new AppError(409, 'DISPUTE_NOT_OPEN', `Only an open dispute can be taken into investigation`, {
      status,
    }),
  holdChanged: () =>
    new AppError(409, 'HOLD_CHANGED', 'The dispute hold changed while resolving; try again', null, {
      'retry-after': '1',
    }),
  counterpartyFunds: (required: bigint, available: bigint) =>
    new AppError(
      409,
      'COUNTERPARTY_INSUFFICIENT_FUNDS',
      'The recipient no longer holds enough to refund the rest of the amount',
      { required, available, deficit: required - available },
    ),
  /** Reversals. */
  notReversibleType: (type: string) =>
    new AppError(409, 'NOT_REVERSIBLE', `${type} transactions cannot be reversed`, { type }),
  disputeOpen: (disputeId: string) =>
    new AppError(409, 'DISPUTE_OPEN', 'The transaction has an open dispute; resolve the dispute instead', {
      dispute_id: disputeId,
    }),
  alreadyRefunded: (disputeId: string) =>
    new AppError(409, 'ALREADY_REFUNDED', 'The transaction was already refunded through a dispute', {
      dispute_id: disputeId,
    }),
};
