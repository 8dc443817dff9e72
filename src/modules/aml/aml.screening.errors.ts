/** The AML screening area's error codes (joined into the module's catalogue in aml.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const screeningErrorDefinitions = {
  AML_LIST_INVALID: {
    status: 422,
    message: 'The list file cannot be read: {reason}',
    description:
      'The uploaded file is not in the published format of its source (UN consolidated XML, OFAC SDN CSV, ' +
      'OpenSanctions FollowTheMoney JSON lines), or it holds no entry.',
  },
} as const satisfies ErrorDefinitions;
