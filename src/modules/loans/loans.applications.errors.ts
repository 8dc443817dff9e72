/**
 * Error codes of the loans module's products and applications areas (joined into one catalogue by loans.errors.ts).
 * Bad terms and bad request fields are VALIDATION_ERROR with the field names (`details.errors[]`).
 */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const applicationErrorDefinitions = {
  LOAN_PRODUCT_NOT_FOUND: {
    status: 404,
    message: 'Loan product not found',
    description: 'No loan product has this id (customers see active products only).',
  },
  LOAN_PRODUCT_EXISTS: {
    status: 409,
    message: 'A loan product with code {code} already exists',
    description: 'Product codes are unique.',
  },
  LOAN_PRODUCT_RETIRED: {
    status: 409,
    message: 'Loan product {code} is retired',
    description: 'A retired product takes no new applications and no further changes.',
  },
  LOAN_AMOUNT_OUT_OF_RANGE: {
    status: 422,
    message: 'The amount must be between {min} and {max}',
    description: 'The amount applied for is outside the product’s amount range.',
  },
  LOAN_TERM_OUT_OF_RANGE: {
    status: 422,
    message: 'The term must be between {min} and {max} instalments',
    description: 'The number of instalments is outside the product’s term range.',
  },
  LOAN_DOCUMENT_NOT_USABLE: {
    status: 422,
    message: 'Document {document_id} cannot be attached to this application',
    description: 'A document to attach does not exist, is not the applicant’s own, or was rejected.',
  },
  LOAN_NOT_ELIGIBLE: {
    status: 409,
    message: 'The customer is not eligible for this loan product',
    description:
      'An eligibility rule of the product refused the application; `details.reasons[]` lists each one ' +
      '(KYC_TIER_TOO_LOW, NO_WALLET, WALLET_NOT_ACTIVE, WALLET_TENURE_TOO_SHORT, TOO_MANY_ACTIVE_LOANS, ' +
      'CUSTOMER_BLOCKED) with a message.',
  },
  LOAN_APPLICATION_NOT_FOUND: {
    status: 404,
    message: 'Loan application not found',
    description: 'No loan application has this id (customers see their own only).',
  },
  LOAN_APPLICATION_WRONG_STATE: {
    status: 409,
    message: 'The application is {status}',
    description: 'The application is not in a state that allows this (e.g. withdrawing an approved one).',
  },
} as const satisfies ErrorDefinitions;
