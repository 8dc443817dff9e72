/**
 * Error codes of the agents module's commission area (joined into the module's catalogue by agents.errors.ts). A plan
 * whose rules break a band rule is the platform's 422 VALIDATION_ERROR, one entry per broken rule naming its field.
 */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const commissionErrorDefinitions = {
  AGENT_COMMISSION_PLAN_NOT_FOUND: {
    status: 404,
    message: 'Commission plan not found',
    description: 'No commission plan has this id.',
  },
  AGENT_COMMISSION_PLAN_EXISTS: {
    status: 409,
    message: 'A commission plan with code {code} exists',
    description: 'Plan codes are unique; change the existing plan or pick another code.',
  },
  AGENT_COMMISSION_PLAN_IN_USE: {
    status: 409,
    message: 'Commission plan {code} is in use',
    description:
      'A plan that agents are on, or the default plan of its currency, cannot be deactivated; move the agents to ' +
      'another plan (or make another plan the default) first.',
  },
  AGENT_COMMISSION_AGENT_NOT_FOUND: {
    status: 404,
    message: 'Agent not found',
    description: 'No agent has this id (or, for an agent operator, the agent is not theirs).',
  },
  AGENT_COMMISSION_PAYOUT_NOT_FOUND: {
    status: 404,
    message: 'Commission payout not found',
    description: 'No commission payout has this id (or, for an agent operator, it is not their agent’s).',
  },
  AGENT_COMMISSION_PAYOUT_CHANGED: {
    status: 409,
    message: 'The accrued commissions of agent {agent_id} changed during the payout; run it again',
    description:
      'Another payout or a clawback took some of the accruals this payout counted while it ran; nothing was paid. ' +
      'Running the payout again pays what is still accrued.',
  },
  AGENT_COMMISSION_PERIOD_INVALID: {
    status: 422,
    message: 'The period is not valid: {reason}',
    description:
      'A period runs forward (from before to), ends no later than now for a payout, and spans at most 366 days.',
  },
} as const satisfies ErrorDefinitions;
