/**
 * Error codes of the loans module's close-of-business and collections area (joined into one catalogue by
 * loans.errors.ts). A loan in the wrong state for a reschedule, write-off or recovery is the accounts area's
 * LOAN_WRONG_STATE; an unknown loan is LOAN_NOT_FOUND.
 */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const cobErrorDefinitions = {
  LOAN_COB_FUTURE_DATE: {
    status: 422,
    message: 'Close of business cannot run for {business_date}: it is after today ({today})',
    description:
      'Close of business runs for a business date that has started (today or earlier, UTC); a later date would ' +
      'accrue interest and mark instalments overdue ahead of time.',
  },
  LOAN_CASE_CLOSED: {
    status: 409,
    message: 'Collection case {number} is closed',
    description:
      'A closed collection case takes no assignment, promise or closing; notes are still accepted.',
  },
  LOAN_RESCHEDULE_INVALID: {
    status: 422,
    message: 'The loan cannot be rescheduled like this: {reason}',
    description:
      'The new term or rate cannot produce a schedule (a term of at least one instalment, a non-negative rate), ' +
      'or the loan has no principal outstanding to reschedule.',
  },
  LOAN_RECOVERY_INSUFFICIENT_FUNDS: {
    status: 409,
    message: 'The wallet holds less than the recovery',
    description:
      'A recovery taken from the customer’s wallet never overdraws it (`details.required`, `details.available`). ' +
      'Nothing was taken.',
  },
} as const satisfies ErrorDefinitions;
