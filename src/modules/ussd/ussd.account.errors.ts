/** Refusals of the USSD channel switch (joined into the module's catalogue by ussd.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const accountErrorDefinitions = {
  USSD_SWITCHED_OFF_BY_STAFF: {
    status: 409,
    message: 'Staff switched USSD banking off for this customer; only staff can switch it back on',
    description:
      'The customer asked to turn the USSD channel back on after staff turned it off (for a stolen SIM or suspected fraud, with a recorded reason): only staff (ussd:manage) can.',
  },
} as const satisfies ErrorDefinitions;
