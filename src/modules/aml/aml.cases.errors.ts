/** The AML cases area's error codes (joined into the module's catalogue in aml.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const casesErrorDefinitions = {
  AML_CASE_NOT_FOUND: {
    status: 404,
    message: 'Case not found',
    description: 'No AML case with this id.',
  },
  AML_CASE_STATE: {
    status: 409,
    message: 'Cannot {action} a case that is {state}',
    description:
      'Cases move open → assigned → investigating ⇄ escalated → closed; a decision needs investigating or ' +
      'escalated, escalating needs investigating, and a closed case takes no action but notes and attachments.',
  },
  AML_CASE_ASSIGNED: {
    status: 409,
    message: 'The case is assigned to another analyst',
    description: 'Claiming takes only a case nobody holds (or already the caller’s); assign it instead.',
  },
  AML_ASSIGNEE_INVALID: {
    status: 422,
    message: 'The assignee must be an active staff user who may investigate AML cases',
    description: 'A case is assigned only to an active staff user whose roles grant `aml:investigate`.',
  },
  AML_CASE_SAME_ANALYST: {
    status: 409,
    message: 'A second, different analyst must confirm this false positive',
    description:
      'Closing as a false positive a case whose customer is rated at or above ' +
      '`aml.false_positive_four_eyes_band` needs two analysts: the one who proposed it cannot confirm it.',
  },
  AML_ATTACHMENT_INVALID: {
    status: 422,
    message: 'Invalid attachment: {reason}',
    description:
      'An attachment is an existing document (`document_id`) or a file uploaded with it (`document_type` and ' +
      '`content_base64`, for a case with a customer).',
  },
  AML_SNOOZE_INVALID: {
    status: 422,
    message: 'A snooze must end in the future and within 90 days',
    description:
      'Snoozing hides a case from the default queue until `until`, which must be ahead and at most 90 days.',
  },
  AML_CASE_NO_CUSTOMER: {
    status: 409,
    message: 'The case names no customer to restrict',
    description: 'Restricting freezes the customer’s wallets; a case raised on an agent alone has none.',
  },
  AML_CASE_NOT_RESTRICTED: {
    status: 409,
    message: 'The case was not decided as restrict, or its wallets are not frozen any more',
    description:
      'Unfreezing is asked on a case closed with the decision `restrict` whose wallets are still frozen.',
  },
} as const satisfies ErrorDefinitions;
