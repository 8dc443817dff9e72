/** Error codes of the loans module's fraud area (joined into one catalogue by loans.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const fraudErrorDefinitions = {
  LOAN_FRAUD_CHECK_NOT_ALLOWED: {
    status: 409,
    message: 'Application {number} is {status}; fraud checks run on open applications only',
    description:
      'A fraud check runs on a submitted, flagged, referred or approved (not yet disbursed) application; a ' +
      'declined, withdrawn or disbursed one is final.',
  },
  LOAN_FRAUD_FLAG_DECIDED: {
    status: 409,
    message: 'The fraud flag was already decided ({status})',
    description: 'A cleared or confirmed flag takes no further escalation or decision.',
  },
  LOAN_FRAUD_CASE_REQUIRED: {
    status: 409,
    message: 'Escalate the flag to an investigation case before deciding it',
    description: 'A flag is decided (clear or confirm) only after `/fraudflag/escalate` opened its case.',
  },
  LOAN_FRAUD_ASSIGNEE_UNKNOWN: {
    status: 422,
    message: 'The assignee is not an active staff user',
    description: 'An investigation case is assigned to an existing, active staff user.',
  },
  LOAN_FRAUD_RULE_PARAMS: {
    status: 422,
    message: 'Invalid parameters for fraud rule {code}: {problem}',
    description: 'The rule’s parameters are missing, of the wrong type or out of range (`details.field`).',
  },
  LOAN_DENY_LIST_EXISTS: {
    status: 409,
    message: 'This {kind} is already on the deny list',
    description: 'A deny-list entry with this kind and value exists already.',
  },
  LOAN_DENY_LIST_NO_VALUE: {
    status: 422,
    message: 'Nothing to deny-list: {problem}',
    description:
      'A deny-list entry needs a value, or for a national ID a customer who has one on file (`customer_id`).',
  },
} as const satisfies ErrorDefinitions;
