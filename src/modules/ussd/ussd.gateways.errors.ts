/**
 * Error codes of the USSD gateway routes (the adapters, the end-of-session reports). A gateway switched off or called
 * with a wrong secret answers the platform's NOT_FOUND, like a route that does not exist, so probing learns nothing.
 */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const gatewayErrorDefinitions = {
  USSD_GATEWAY_REQUEST_INVALID: {
    status: 400,
    message: 'The USSD gateway request could not be read',
    description:
      'The body is not the gateway’s wire format (a field missing or of the wrong type, a phone number that is not ' +
      'one); `details.field` names the field. The gateway ends the session on any 4xx.',
    example: {
      message: 'The at request could not be read: phoneNumber is not a phone number',
      details: { gateway: 'at', field: 'phoneNumber' },
    },
  },
  USSD_GATEWAY_ADDRESS_NOT_ALLOWED: {
    status: 403,
    message: 'This address may not call the USSD gateway route',
    description:
      'The caller’s address is not in the gateway’s allowlist (`USSD_<GATEWAY>_ALLOWED_IPS`); checked after the ' +
      'secret, so only a caller that knows the secret learns the route exists.',
  },
} as const satisfies ErrorDefinitions;
