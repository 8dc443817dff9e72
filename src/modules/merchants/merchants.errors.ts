/** The merchant module's closed set of error codes. */
import {
  defineErrors,
  type ErrorDefinitions,
  platformErrorCatalogue as platform,
} from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';
import { walletErrorCatalogue } from '../wallets/index.ts';
import { EmvcoError } from './emvco.ts';

const definitions = {
  MERCHANT_UNAVAILABLE: {
    status: 422,
    message: 'The merchant is {status} and cannot be paid',
    description: 'The merchant is not active and cannot be paid.',
  },
  MERCHANT_STATUS_UNCHANGED: {
    status: 409,
    message: 'The merchant is already {status}',
    description: 'The merchant already has this status.',
  },
  MERCHANT_CLOSED: {
    status: 409,
    message: 'A closed merchant cannot change status',
    description: 'A closed merchant cannot change status.',
  },
  INVALID_QR: {
    status: 422,
    message: 'Invalid QR code: {reason}',
    description: 'The QR payload is not valid EMVCo; `details.field` names the field.',
  },
  UNKNOWN_QR_SCHEME: {
    status: 422,
    message: 'The QR code does not carry a merchant account of this platform',
    description: 'The QR code does not carry a merchant account of this platform.',
  },
  QR_EXPIRED: {
    status: 422,
    message: 'This QR code has expired',
    description: 'The dynamic QR code has expired.',
  },
  QR_ALREADY_USED: {
    status: 409,
    message: 'This QR code was already used for a payment',
    description: 'The single-use QR code was already paid.',
  },
  AMOUNT_MISMATCH: {
    status: 422,
    message: 'The amount differs from the amount in the QR code',
    description: 'The amount differs from the amount in the QR code.',
  },
  REFERENCE_EXISTS: {
    status: 409,
    message: 'A QR code with this reference exists',
    description: 'A QR code with this reference exists.',
  },
} as const satisfies ErrorDefinitions;

type MerchantErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends MerchantErrorCodes {}
}

export const merchantErrorCatalogue = defineErrors('merchants', definitions);
const codes = merchantErrorCatalogue;

export const merchantErrors = {
  notFound: () => commonErrors.notFound('Merchant'),
  qrNotFound: () => commonErrors.notFound('QR code'),
  unavailable: (status: string) => codes.MERCHANT_UNAVAILABLE({ params: { status }, details: { status } }),
  statusUnchanged: (status: string) =>
    codes.MERCHANT_STATUS_UNCHANGED({ params: { status }, details: { status } }),
  closed: () => codes.MERCHANT_CLOSED(),
  invalidQr: (field: string, message: string) =>
    codes.INVALID_QR({ params: { reason: message }, details: { field } }),
  unknownScheme: () => codes.UNKNOWN_QR_SCHEME(),
  expired: (expiresAt: Date) => codes.QR_EXPIRED({ details: { expires_at: expiresAt.toISOString() } }),
  used: () => codes.QR_ALREADY_USED(),
  amountMismatch: (expected: bigint, given: bigint) =>
    codes.AMOUNT_MISMATCH({ details: { expected, given } }),
  referenceExists: (reference: string) => codes.REFERENCE_EXISTS({ details: { reference } }),
  validation: (field: string, message: string) =>
    platform.VALIDATION_ERROR({
      message: `${field} ${message}`,
      details: { errors: [{ field: `body.${field}`, message }] },
    }),
  /** The owner customer of a merchant being registered is closed or erased. */
  ownerInactive: (status: string) =>
    walletErrorCatalogue.CUSTOMER_INACTIVE({ message: 'The owner customer is closed', details: { status } }),
};

/** The codec's refusals are the payer's (or maker's) bad input: 422 INVALID_QR naming the field. */
export function asQrError(error: unknown): unknown {
  return error instanceof EmvcoError ? merchantErrors.invalidQr(error.field, error.message) : error;
}
