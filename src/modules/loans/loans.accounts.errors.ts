/**
 * Error codes of the loans module's accounts area: approval, disbursement and the loan reads (joined into one
 * catalogue by loans.errors.ts).
 */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const accountErrorDefinitions = {
  LOAN_NOT_FOUND: {
    status: 404,
    message: 'Loan not found',
    description: 'No loan has this id (customers see their own loans only).',
  },
  LOAN_WRONG_STATE: {
    status: 409,
    message: 'The loan is {status}',
    description:
      'The loan is not in a state that allows this (e.g. disbursing a loan that is already active).',
  },
  LOAN_APPLICATION_NOT_APPROVABLE: {
    status: 409,
    message: 'An application that is {status} cannot be approved or declined here',
    description:
      'Only an application referred to a loan officer (or one submitted again after its fraud flag was cleared) ' +
      'is decided by hand.',
  },
  LOAN_APPROVAL_NOT_PERMITTED: {
    status: 403,
    message: 'None of your roles may approve loans in {currency}',
    description:
      'Approval limits are set per role and currency (`/api/v1/loan/approvallimit/set`); a role without one ' +
      'may not approve loans in that currency.',
  },
  LOAN_APPROVAL_LIMIT_EXCEEDED: {
    status: 403,
    message: 'The amount is above your approval limit of {limit}',
    description: 'The amount is above the highest approval limit of your roles in the currency.',
  },
  LOAN_WALLET_UNAVAILABLE: {
    status: 409,
    message: 'The customer has no active {currency} wallet to disburse to',
    description:
      'A loan is disbursed to the customer’s wallet in its currency, which must exist and be active.',
  },
  LOAN_MAX_BALANCE_EXCEEDED: {
    status: 409,
    message: 'The disbursement would take the wallet above its maximum balance of {max_balance}',
    description:
      'Wallet limits do not apply to a disbursement, but the wallet’s maximum balance (the lower of its KYC ' +
      'tier’s and its product’s) does; nothing was posted. `details` gives the balance, the amount and the cap.',
  },
} as const satisfies ErrorDefinitions;
