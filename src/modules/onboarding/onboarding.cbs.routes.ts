/** `POST /api/v1/mobile/register/identity/cbs`: identity path A, the existing bank customer (token header). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { commonErrors } from '../../platform/errors.ts';
import { contextOf } from '../../platform/http.ts';
import { CbsLookupAnswer, CbsLookupBody } from './onboarding.activation.schemas.ts';
import type { CbsIdentity } from './onboarding.cbs.ts';
import { RegistrationHeaders } from './onboarding.journey.schemas.ts';
import type { Journey } from './onboarding.journey.ts';

export function cbsRoutes(journey: Journey, cbs: CbsIdentity): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/mobile/register/identity/cbs',
      {
        config: {
          access: { public: true },
          errors: [
            'REGISTRATION_TOKEN_INVALID',
            'REGISTRATION_EXPIRED',
            'REGISTRATION_STEP_OUT_OF_ORDER',
            'REGISTRATION_CBS_NOT_CONFIGURED',
            'REGISTRATION_CBS_UNAVAILABLE',
            'REGISTRATION_CBS_CLIENT_NOT_FOUND',
            'REGISTRATION_RATE_LIMITED',
          ],
        },
        schema: {
          operationId: 'registerIdentityCbs',
          tags: ['onboarding'],
          summary:
            'Identity path A: find the applicant in the core banking system and match the declared details',
          description:
            'Looks the bank client up by national ID, or by account number (the registering phone must then be the ' +
            'one the bank holds), and matches name, date of birth and phone by the documented rules ' +
            '(docs/onboarding.md). The CBS client is linked to the registration. A mismatch or an inactive client ' +
            'does not stop the journey: completion goes to manual review. The answer does not tell whether the ' +
            'details matched (that would let anyone test guesses of a client’s details); at most ' +
            '`ONBOARDING_CBS_LOOKUPS_PER_HOUR` lookups per registration. Nobody found answers 404; the same ' +
            'request again answers the same.',
          headers: RegistrationHeaders,
          body: CbsLookupBody,
          response: { 200: CbsLookupAnswer },
        },
      },
      async (request) => {
        const { body, headers } = request;
        if (body.lookup === 'national_id' && !body.national_id)
          throw requiredWith('national_id', 'national_id');
        if (body.lookup === 'account' && !body.account_number)
          throw requiredWith('account_number', 'account');
        const registration = await journey.byToken(headers['x-registration-token'], headers['x-device-id']);
        return cbs.lookup(registration, body, contextOf(request), headers['idempotency-key']);
      },
    );
  };
}

function requiredWith(field: string, lookup: string) {
  return commonErrors.validation(`${field} is required when lookup is ${lookup}`, {
    errors: [{ field: `body.${field}`, message: `is required when lookup is ${lookup}`, rule: 'required' }],
  });
}
