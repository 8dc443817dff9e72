/**
 * `/api/v1/mobile/register`: the phone check (which gives the registration token) and the status a journey resumes
 * from. Public routes: every one after the phone check reads its token from `X-Registration-Token`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import {
  PhoneCheckAnswer,
  PhoneCheckBody,
  RegistrationHeaders,
  StatusAnswer,
} from './onboarding.journey.schemas.ts';
import type { Journey } from './onboarding.journey.ts';
import type { PhoneCheck } from './onboarding.phone.ts';

export const PHONE_CHECK_PATH = '/api/v1/mobile/register/phone/check';

export function journeyRoutes(journey: Journey, phone: PhoneCheck): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      PHONE_CHECK_PATH,
      {
        config: {
          access: { public: true },
          errors: ['REGISTRATION_NOT_ELIGIBLE', 'REGISTRATION_RATE_LIMITED', 'REGISTRATION_UNAVAILABLE'],
        },
        schema: {
          operationId: 'registerPhoneCheck',
          tags: ['onboarding'],
          summary: 'Start (or resume) a registration: check the phone number and get a registration token',
          description:
            'Normalises the number to E.164 and checks that it is a mobile number of a served country, not on a ' +
            'deny list, within the hourly caps per phone, device and client address. Answers an opaque token ' +
            '(send it as `X-Registration-Token`) and the next step. A number that is a customer already gets the ' +
            'same shape with `next_step: sign_in`. The same device checking the same number again resumes its ' +
            'unfinished registration with a fresh token.',
          body: PhoneCheckBody,
          response: { 200: PhoneCheckAnswer },
        },
      },
      async (request) => phone.check(request.body, contextOf(request)),
    );

    app.get(
      '/api/v1/mobile/register/status',
      {
        config: {
          access: { public: true },
          errors: ['REGISTRATION_TOKEN_INVALID', 'REGISTRATION_EXPIRED'],
        },
        schema: {
          operationId: 'registerStatus',
          tags: ['onboarding'],
          summary:
            'Where the registration stands: its state and the steps expected next (resume after a restart)',
          headers: RegistrationHeaders,
          response: { 200: StatusAnswer },
        },
      },
      async (request) =>
        phone.status(
          await journey.byToken(request.headers['x-registration-token'], request.headers['x-device-id']),
        ),
    );
  };
}
