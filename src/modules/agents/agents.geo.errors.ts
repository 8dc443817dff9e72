/** Error codes of the agents module's geo area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const geoErrorDefinitions = {
  GEOFENCE_VIOLATION: {
    status: 403,
    message: 'The device is outside the store’s area or its location is too old',
    description:
      'The operator’s location fix is outside the store’s geofence (beyond the reported accuracy, capped), or older ' +
      'than the configured age, and the agent’s policy refuses such actions. The check is recorded; `details` has ' +
      '`outcome` (`outside` or `stale`), `distance_m` (from the fence’s edge) and `check_id`.',
  },
  AGENT_ALREADY_CHECKED_IN: {
    status: 409,
    message: 'The operator is already checked in',
    description:
      'An operator has at most one open shift: check out first. `details.shift_id` names the open one.',
  },
  AGENT_NOT_CHECKED_IN: {
    status: 409,
    message: 'The operator is not checked in',
    description: 'Check-out closes the operator’s open shift; there is none (or it is at another store).',
  },
  AGENT_ALERT_NOT_FOUND: {
    status: 404,
    message: 'Alert not found',
    description: 'No agent alert with this id.',
  },
} as const satisfies ErrorDefinitions;
