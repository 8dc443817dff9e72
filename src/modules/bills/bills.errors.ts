/** The bills module's closed set of error codes. */
import {
  defineErrors,
  type ErrorDefinitions,
  platformErrorCatalogue as platform,
} from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';

const definitions = {
  BILLER_NOT_FOUND: {
    status: 404,
    message: 'Biller not found',
    description: 'No biller has this id or code.',
  },
  BILLER_EXISTS: {
    status: 409,
    message: 'A biller with code {code} already exists',
    description: 'A biller with this code exists.',
  },
  UNKNOWN_BILLER_ADAPTER: {
    status: 422,
    message: 'There is no biller adapter called {adapter}',
    description: 'No biller adapter has this name.',
  },
  INVALID_REFERENCE_PATTERN: {
    status: 422,
    message: 'The reference pattern is not usable: {reason}',
    description: 'The biller’s reference pattern is not a usable expression.',
  },
  BILLER_UNAVAILABLE: {
    status: 422,
    message: 'Biller {code} is not accepting payments now',
    description: 'The biller is not accepting payments now.',
  },
  INVALID_BILL_REFERENCE: {
    status: 422,
    message: 'That is not a valid {code} account reference',
    description: 'The account, meter or smartcard number is not valid.',
  },
  AMOUNT_OUT_OF_RANGE: {
    status: 422,
    message: 'The amount is outside what this biller accepts',
    description: 'The amount is outside what this biller accepts.',
  },
} as const satisfies ErrorDefinitions;

type BillErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends BillErrorCodes {}
}

export const billErrorCatalogue = defineErrors('bills', definitions);
const codes = billErrorCatalogue;

export const billErrors = {
  notFound: () => codes.BILLER_NOT_FOUND(),
  exists: (code: string) => codes.BILLER_EXISTS({ params: { code }, details: { code } }),
  unknownAdapter: (adapter: string, known: string[]) =>
    codes.UNKNOWN_BILLER_ADAPTER({ params: { adapter }, details: { adapter, known } }),
  invalidPattern: (reason: string) =>
    codes.INVALID_REFERENCE_PATTERN({
      params: { reason },
      details: { errors: [{ field: 'body.reference_pattern', message: reason }] },
    }),
  amountBounds: () =>
    commonErrors.validation('min_amount must not exceed max_amount', {
      errors: [{ field: 'body.max_amount', message: 'must be at least min_amount' }],
    }),
  unavailable: (code: string) => codes.BILLER_UNAVAILABLE({ params: { code }, details: { code } }),
  invalidReference: (code: string, reason: string) =>
    codes.INVALID_BILL_REFERENCE({ params: { code }, details: { biller_code: code, reason } }),
  currencyMismatch: (code: string, expected: string, actual: string) =>
    platform.CURRENCY_MISMATCH({
      message: `Biller ${code} is paid in ${expected}, not ${actual}`,
      details: { expected, actual },
    }),
  amountOutOfRange: (amount: bigint, min: bigint, max: bigint | null) =>
    codes.AMOUNT_OUT_OF_RANGE({ details: { amount, min_amount: min, max_amount: max } }),
};
