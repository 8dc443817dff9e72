/** Error codes of the agents module's cash area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const cashErrorDefinitions = {
  AGENT_LIMIT_EXCEEDED: {
    status: 422,
    message: 'The agent’s {period} limit is {limit}; {remaining} remains',
    description:
      'A cash-in or cash-out above the agent’s single limit, or beyond its daily limit (cash-ins plus cash-outs per ' +
      'UTC day, counted exactly under concurrency).',
  },
  AGENT_CUSTOMER_NOT_FOUND: {
    status: 404,
    message: 'No active customer with a {currency} wallet has this phone',
    description:
      'The phone is not an active customer’s, or the customer has no active wallet in the currency.',
  },
  AGENT_WITHDRAWAL_CODE_INVALID: {
    status: 422,
    message: 'The withdrawal code is not valid for this customer, agent and amount',
    description:
      'No pending, unexpired withdrawal code of this customer matches the code, the agent and the amount. After 5 ' +
      'wrong codes every pending code of the customer is cancelled.',
  },
  AGENT_WITHDRAWAL_CODE_USED: {
    status: 409,
    message: 'The withdrawal code was already used',
    description: 'A withdrawal code pays out once: another cash-out took it first.',
  },
  AGENT_WITHDRAWAL_CODE_NOT_FOUND: {
    status: 404,
    message: 'Withdrawal code not found',
    description: 'No pending withdrawal code of the customer has this id.',
  },
  AGENT_CASH_OUT_NOT_FOUND: {
    status: 404,
    message: 'Cash-out request not found',
    description:
      'No cash-out request has this id for the caller (operators: their store; customers: their own).',
  },
  AGENT_CASH_OUT_NOT_PENDING: {
    status: 409,
    message: 'The cash-out request is {status}',
    description: 'Only a pending, unexpired cash-out request can be approved or rejected.',
  },
  AGENT_NUMBER_UNKNOWN: {
    status: 404,
    message: 'Agent {agent} not found',
    description: 'No active agent has this agent number.',
  },
} as const satisfies ErrorDefinitions;
