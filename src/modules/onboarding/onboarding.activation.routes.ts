/** `POST /api/v1/mobile/register/complete`: automatic approval and activation, or the review queue (token header). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import { CompleteAnswer, CompleteBody } from './onboarding.activation.schemas.ts';
import type { Activation } from './onboarding.activation.ts';
import { RegistrationHeaders } from './onboarding.journey.schemas.ts';
import type { Journey } from './onboarding.journey.ts';

export function activationRoutes(journey: Journey, activation: Activation): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/mobile/register/complete',
      {
        config: {
          access: { public: true },
          errors: [
            'REGISTRATION_TOKEN_INVALID',
            'REGISTRATION_EXPIRED',
            'REGISTRATION_STEP_OUT_OF_ORDER',
            'CUSTOMER_EXISTS',
            'NO_WALLET_PRODUCT',
          ],
        },
        schema: {
          operationId: 'registerComplete',
          tags: ['onboarding'],
          summary: 'Finish the registration: activate the account at once, or send it to manual review',
          description:
            'Approves automatically when the identity was verified with no mismatch, no customer or other ' +
            'registration holds the national ID, no deny list or sanctions screening names the applicant, and the ' +
            'phone OTP was done. Activation creates the customer (KYC tier by identity path), the default wallet, ' +
            'the PIN credentials and the bound device in one transaction and answers session tokens, as ' +
            '`POST /auth/customer/login` does. Otherwise the state is `in_review` and staff decide. The same ' +
            'request again answers the same, without tokens (sign in with phone and PIN).',
          headers: RegistrationHeaders,
          body: CompleteBody,
          response: { 200: CompleteAnswer },
        },
      },
      async (request) => {
        const { headers } = request;
        const registration = await journey.byToken(headers['x-registration-token'], headers['x-device-id']);
        return activation.complete(registration, contextOf(request), headers['idempotency-key']);
      },
    );
  };
}
