/** The merchant module's closed set of error codes. */
import { AppError } from '../../platform/errors.ts';
import { EmvcoError } from './emvco.ts';

export const merchantErrors = {
  notFound: () => new AppError(404, 'NOT_FOUND', 'Merchant not found'),
  qrNotFound: () => new AppError(404, 'NOT_FOUND', 'QR code not found'),
  unavailable: (status: string) =>
    new AppError(422, 'MERCHANT_UNAVAILABLE', `The merchant is ${status} and cannot be paid`, { status }),
  statusUnchanged: (status: string) =>
    new AppError(409, 'MERCHANT_STATUS_UNCHANGED', `The merchant is already ${status}`, { status }),
  closed: () => new AppError(409, 'MERCHANT_CLOSED', 'A closed merchant cannot change status'),
  invalidQr: (field: string, message: string) =>
    new AppError(422, 'INVALID_QR', `Invalid QR code: ${message}`, { field }),
  unknownScheme: () =>
    new AppError(422, 'UNKNOWN_QR_SCHEME', 'The QR code does not carry a merchant account of this platform'),
  expired: (expiresAt: Date) =>
    new AppError(422, 'QR_EXPIRED', 'This QR code has expired', { expires_at: expiresAt.toISOString() }),
  used: () => new AppError(409, 'QR_ALREADY_USED', 'This QR code was already used for a payment'),
  amountMismatch: (expected: bigint, given: bigint) =>
    new AppError(422, 'AMOUNT_MISMATCH', 'The amount differs from the amount in the QR code', {
      expected,
      given,
    }),
  referenceExists: (reference: string) =>
    new AppError(409, 'REFERENCE_EXISTS', 'A QR code with this reference exists', { reference }),
  validation: (field: string, message: string) =>
    new AppError(422, 'VALIDATION_ERROR', `${field} ${message}`, {
      errors: [{ field: `body.${field}`, message }],
    }),
};

/** The codec's refusals are the payer's (or maker's) bad input: 422 INVALID_QR naming the field. */
export function asQrError(error: unknown): unknown {
  return error instanceof EmvcoError ? merchantErrors.invalidQr(error.field, error.message) : error;
}
