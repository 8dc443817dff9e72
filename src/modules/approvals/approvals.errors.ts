/**
 * The approvals module's closed set of error codes (maker-checker). OWN_REQUEST is also the customers module's
 * (KYC decisions) and the disputes module's (refunds), through index.ts.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';

const definitions = {
  UNKNOWN_ACTION: {
    status: 422,
    message: 'Unknown action {name}',
    description: 'No maker-checker action has this name.',
  },
  NOT_PENDING: {
    status: 409,
    message: 'This request is {status}',
    description: 'The request was already decided or cancelled.',
  },
  OWN_REQUEST: {
    status: 403,
    message: 'The maker of a request cannot approve or reject it',
    description: 'Maker-checker: whoever made a request (or opened a case) cannot also decide it.',
  },
  APPROVAL_ALREADY_PENDING: {
    status: 409,
    message: 'The same request is already waiting for approval; approve, reject or cancel it first',
    description: 'The same request is already waiting for approval; decide or cancel that one first.',
  },
} as const satisfies ErrorDefinitions;

type ApprovalErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends ApprovalErrorCodes {}
}

export const approvalErrorCatalogue = defineErrors('approvals', definitions);
