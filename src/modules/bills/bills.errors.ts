/** The bills module's closed set of error codes. */
import { AppError } from '../../platform/errors.ts';

export const billErrors = {
  notFound: () => new AppError(404, 'BILLER_NOT_FOUND', 'Biller not found'),
  exists: (code: string) =>
    new AppError(409, 'BILLER_EXISTS', `A biller with code ${code} already exists`, { code }),
  unknownAdapter: (adapter: string, known: string[]) =>
    new AppError(422, 'UNKNOWN_BILLER_ADAPTER', `There is no biller adapter called ${adapter}`, {
      adapter,
      known,
    }),
  invalidPattern: (reason: string) =>
    new AppError(422, 'INVALID_REFERENCE_PATTERN', `The reference pattern is not usable: ${reason}`, {
      errors: [{ field: 'body.reference_pattern', message: reason }],
    }),
  amountBounds: () =>
    new AppError(422, 'VALIDATION_ERROR', 'min_amount must not exceed max_amount', {
      errors: [{ field: 'body.max_amount', message: 'must be at least min_amount' }],
    }),
  unavailable: (code: string) =>
    new AppError(422, 'BILLER_UNAVAILABLE', `Biller ${code} is not accepting payments now`, { code }),
  invalidReference: (code: string, reason: string) =>
    new AppError(422, 'INVALID_BILL_REFERENCE', `That is not a valid ${code} account reference`, {
      biller_code: code,
      reason,
    }),
  currencyMismatch: (code: string, expected: string, actual: string) =>
    new AppError(422, 'CURRENCY_MISMATCH', `Biller ${code} is paid in ${expected}, not ${actual}`, {
      expected,
      actual,
    }),
  amountOutOfRange: (amount: bigint, min: bigint, max: bigint | null) =>
    new AppError(422, 'AMOUNT_OUT_OF_RANGE', 'The amount is outside what this biller accepts', {
      amount,
      min_amount: min,
      max_amount: max,
    }),
};
