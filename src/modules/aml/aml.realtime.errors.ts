/**
 * The AML realtime area's error codes (joined into the module's catalogue in aml.errors.ts). Only staff with an
 * `aml:*` permission ever see them: a customer's refused payment answers the transactions module's
 * TRANSACTION_BLOCKED, which names no rule.
 */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const realtimeErrorDefinitions = {
  AML_RULE_NOT_FOUND: {
    status: 404,
    message: 'AML rule {code} not found',
    description: 'No AML rule has this code.',
  },
  AML_RULE_EXISTS: {
    status: 409,
    message: 'An AML rule with code {code} exists',
    description: 'Rule codes are unique: add a version to the existing rule instead.',
  },
  AML_RULE_INVALID: {
    status: 422,
    message: 'The rule definition is invalid: {reason}',
    description:
      "The rule's definition does not follow the rule language of its kind (realtime: all-of conditions; " +
      'scenario: params). `details.errors` names each problem; nothing was stored.',
  },
  AML_HELD_NOT_FOUND: {
    status: 404,
    message: 'No payment held for AML review has id {transaction_id}',
    description: 'No AML review decision exists for this transaction.',
  },
  AML_HELD_RESOLVED: {
    status: 409,
    message: 'The held payment was already {resolution}',
    description: 'A held payment is released or rejected once.',
  },
} as const satisfies ErrorDefinitions;
