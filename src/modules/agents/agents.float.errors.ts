/** Error codes of the agents module's float area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const floatErrorDefinitions = {
  AGENT_FLOAT_INSUFFICIENT: {
    status: 409,
    message: 'The float of {account} holds {available}, less than {required}',
    description:
      'A cash-in or a rebalance would take the paying float below zero (the ledger guards every float account).',
  },
  AGENT_FLOAT_LIMIT_EXCEEDED: {
    status: 422,
    message: 'The {limit} limit of the agent is {value}',
    description:
      'A rebalance above the agent’s rebalance_single_minor, or a top-up or rebalance that would take the receiving ' +
      'float above float_max_minor.',
  },
  AGENT_FLOAT_DEPOSIT_NOT_FOUND: {
    status: 404,
    message: 'Float deposit not found',
    description: 'No float deposit has this id, or it is not the caller’s agent’s.',
  },
  AGENT_FLOAT_DEPOSIT_DECIDED: {
    status: 409,
    message: 'The float deposit is already {status}',
    description: 'A float deposit is confirmed or rejected once.',
  },
  AGENT_BANK_REFERENCE_USED: {
    status: 409,
    message: 'A float deposit with this bank reference exists',
    description: 'Each bank deposit tops up a float once: its bank reference is unique.',
  },
  AGENT_FLOAT_SELF_APPROVAL: {
    status: 403,
    message: 'The maker of a float deposit cannot confirm it',
    description:
      'A staff member who asked for a float deposit cannot confirm it: another one with agent:float must.',
  },
  AGENT_FLOAT_NOT_PERMITTED: {
    status: 403,
    message: 'Only an agent admin of this float’s agent or staff with {permission} may do this',
    description:
      'The float routes open to agent admins and staff alike refuse anyone else: tellers, customers, and staff ' +
      'without the permission the action needs (agent:float to ask, move or confirm; agent:read to read).',
  },
  AGENT_REBALANCE_NOT_ALLOWED: {
    status: 422,
    message: 'Float cannot move from {from} to {to}',
    description:
      'Rebalancing moves float between an agent and its stores, between stores of one agent, and between a ' +
      'super-agent and its agents; nothing else (and never between currencies or to the same float).',
  },
} as const satisfies ErrorDefinitions;
