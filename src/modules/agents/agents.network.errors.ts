/** Error codes of the agents module's network area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const networkErrorDefinitions = {
  AGENT_NOT_FOUND: {
    status: 404,
    message: 'Agent not found',
    description: 'No agent with this id, or (an operator) not the operator’s own agent.',
  },
  AGENT_STORE_NOT_FOUND: {
    status: 404,
    message: 'Store not found',
    description:
      'No store with this id, or (an operator) a store of another agent or another store than the teller’s.',
  },
  AGENT_OPERATOR_NOT_FOUND: {
    status: 404,
    message: 'Operator not found',
    description: 'No operator with this id, or (an operator) one of another agent.',
  },
  AGENT_NOT_ACTIVE: {
    status: 403,
    message: 'The agent, its super-agent or the store is not active ({status})',
    description:
      'Operations need an active agent, an active super-agent (when it has one) and an active store: a pending, ' +
      'suspended or closed one refuses them.',
  },
  AGENT_STATUS_CONFLICT: {
    status: 409,
    message: 'Cannot {action} from status {status}',
    description:
      'The lifecycle moves pending → active ⇄ suspended → closed (stores and operators: active ⇄ suspended → ' +
      'closed); the requested change does not apply to the current status.',
  },
  AGENT_OWNER_NOT_ELIGIBLE: {
    status: 422,
    message: 'The owner must be an existing, active customer',
    description:
      'An agent’s owner is a customer of the bank whose status is active (not pending, suspended, closed or erased).',
  },
  AGENT_PARENT_INVALID: {
    status: 422,
    message: 'Invalid parent: {reason}',
    description:
      'Only an agent may name a parent, and the parent must be an existing super-agent that is not closed.',
  },
  AGENT_REGISTRATION_EXISTS: {
    status: 409,
    message: 'An agent with this registration number exists already',
    description: 'Registration numbers are unique across agents.',
  },
  AGENT_CURRENCY_UNSUPPORTED: {
    status: 422,
    message: 'Currency {currency} is not supported',
    description: 'The agent’s currency must be one the ledger knows.',
  },
  AGENT_GEOFENCE_INVALID: {
    status: 422,
    message: 'Invalid geofence: {reason}',
    description:
      'Latitudes are in [-90, 90], longitudes in [-180, 180]; a circle’s radius is above 0 and at most 50 km; a ' +
      'polygon has 3 to 50 vertices.',
  },
  AGENT_OPERATOR_PHONE_EXISTS: {
    status: 409,
    message: 'An operator with this phone number exists already',
    description: 'An operator’s phone (E.164) is their sign-in identifier and unique across operators.',
  },
  AGENT_OPERATOR_INVALID: {
    status: 422,
    message: 'Invalid operator: {reason}',
    description:
      'A teller works at one store of its agent and signs in with a 6-digit PIN; an agent admin has no store and ' +
      'signs in with a password that meets the password policy.',
  },
  AGENT_DEVICE_INVALID: {
    status: 422,
    message: 'Invalid device: {reason}',
    description:
      'The device id is 1–128 of A–Z a–z 0–9 . _ : -, and the public key an Ed25519 key (base64 raw 32 bytes, SPKI DER or PEM).',
  },
  AGENT_DEVICE_NOT_FOUND: {
    status: 404,
    message: 'No active device {device_id} for this operator',
    description: 'The device is not bound to the operator, or was revoked.',
  },
  AGENT_FLOAT_NOT_ZERO: {
    status: 409,
    message: 'The {what} still holds float or commission ({balance})',
    description:
      'An agent closes only with zero float on itself and every store and zero commission payable; a store only ' +
      'with zero float: rebalance store floats to the agent and pay commissions out first.',
  },
  AGENT_SWEEP_NO_WALLET: {
    status: 409,
    message: 'The agent’s owner has no {currency} wallet to sweep the float into',
    description:
      'Closing with `sweep: true` moves every float and the commission to the owner’s customer wallet in the ' +
      'agent’s currency; the owner has none (open one, or empty the floats and close without sweep). Nothing moved.',
  },
} as const satisfies ErrorDefinitions;
