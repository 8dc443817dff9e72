/**
 * The customers module's closed set of error codes: customer records and contacts, and PIN sign-in. PIN sign-in also
 * answers identity's INVALID_CREDENTIALS, ACCOUNT_INACTIVE and PUSH_NOT_APPROVED, through identity's index.ts. The
 * KYC codes belong to the KYC module (src/modules/kyc/kyc.errors.ts).
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';

const definitions = {
  CUSTOMER_EXISTS: {
    status: 409,
    message: 'A customer with this {field} already exists',
    description: 'A customer with this phone, email or national ID exists.',
  },
  CUSTOMER_ERASED: {
    status: 409,
    message: 'This customer has been erased',
    description: 'The customer was erased; the record is anonymised.',
  },
  CUSTOMER_HAS_OBLIGATIONS: {
    status: 409,
    message: 'The customer cannot be erased yet: {reasons}',
    description:
      'The customer still holds money or owes it (a wallet balance or hold, an approved or active loan, an open loan ' +
      'application); `details.reasons` lists each. Settle them first.',
    example: {
      message: 'The customer cannot be erased yet: wallet 71234567890 holds a balance of KES 150.00',
      details: { reasons: ['wallet 71234567890 holds a balance of KES 150.00'] },
    },
  },
  PRIMARY_CONTACT: {
    status: 409,
    message: 'Make another phone primary before removing this one',
    description: 'Make another contact primary before removing this one.',
  },
  INVALID_PIN: {
    status: 401,
    message: 'The PIN is wrong',
    description: 'Wrong phone number or PIN (never which).',
  },
  PIN_LOCKED: {
    status: 423,
    message: 'The PIN is locked after too many wrong tries; contact support to reset it',
    description: 'The PIN is locked after too many wrong tries; staff reset it.',
  },
  PIN_NOT_SET: {
    status: 409,
    message: 'No PIN is set for this customer',
    description: 'The customer has no PIN yet.',
  },
  PIN_POLICY: { status: 422, message: 'The PIN {reason}', description: 'The PIN is not 4–6 digits.' },
  WEAK_PIN: {
    status: 422,
    message: 'The PIN {reason}; choose one that is hard to guess',
    description: 'The PIN is guessable (a run, a repeat, a common PIN or a year); choose another.',
  },
  IDENTITY_MISMATCH: {
    status: 401,
    message: 'The ID number does not match our records; the code is used up',
    description: 'The ID number does not match the one on file; the reset code is used up.',
  },
} as const satisfies ErrorDefinitions;

type CustomerErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends CustomerErrorCodes {}
}

export const customerErrorCatalogue = defineErrors('customers', definitions);
