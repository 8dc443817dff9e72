/** Error codes of the agents module's auth area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const authErrorDefinitions = {
  AGENT_AUTH_FAILED: {
    status: 401,
    message: 'Invalid phone number, device or PIN',
    description:
      'The phone is no active operator’s, the device is not bound to them (or was revoked), the nonce is unknown, ' +
      'expired or used, or the signature does not verify. The answer does not say which.',
  },
  AGENT_PIN_INVALID: {
    status: 401,
    message: 'Wrong PIN or password',
    description:
      'The teller’s PIN (or the agent admin’s password) is wrong; `details.attempts_left` says how many tries remain ' +
      'before the lock.',
  },
  AGENT_PIN_LOCKED: {
    status: 423,
    message: 'Too many wrong PINs; try again in {minutes} minutes',
    description:
      'After too many wrong PINs the operator is locked for a while (staff may reset the PIN to lift it).',
  },
  AGENT_OPERATOR_INACTIVE: {
    status: 403,
    message: 'This operator, its store or its agent is not active',
    description: 'Suspended or closed operators, stores and agents (or their super-agent) cannot sign in.',
  },
  AGENT_MFA_INVALID: {
    status: 401,
    message: 'Invalid or expired second-factor challenge or code',
    description: 'The MFA token is unknown or expired, or the code is wrong.',
  },
  AGENT_SCOPE_REQUIRED: {
    status: 403,
    message: 'Only an agent operator may use this route',
    description:
      'Operator routes resolve the signed-in operator’s agent and store; staff and customers are refused.',
  },
} as const satisfies ErrorDefinitions;
