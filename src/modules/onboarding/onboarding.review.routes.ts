/** `/api/v1/mobile/register/review/...`: the manual approval queue for staff with `onboarding:review`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import {
  DetailsUpdateAnswer,
  DetailsUpdateBody,
  ReviewApproveBody,
  ReviewClaimBody,
  ReviewDecision,
  ReviewList,
  ReviewListQuery,
  ReviewRejectBody,
  ReviewRequestInfoBody,
} from './onboarding.activation.schemas.ts';
import { RegistrationHeaders } from './onboarding.journey.schemas.ts';
import type { Journey } from './onboarding.journey.ts';
import type { DetailsUpdate } from './onboarding.review.details.ts';
import type { ReviewQueue } from './onboarding.review.ts';

const access = { permission: 'onboarding:review' } as const;
const DECIDE_ERRORS = [
  'NOT_FOUND',
  'REGISTRATION_STEP_OUT_OF_ORDER',
  'REGISTRATION_REVIEW_CLAIMED',
  'REGISTRATION_REVIEW_NOT_CLAIMED',
] as const;

export function reviewRoutes(queue: ReviewQueue): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/mobile/register/review/list',
      {
        config: { access },
        schema: {
          operationId: 'listRegistrationReviews',
          tags: ['onboarding'],
          summary: 'Registrations waiting for manual review, oldest first, with why they were not approved',
          querystring: ReviewListQuery,
          response: { 200: ReviewList },
        },
      },
      async (request) =>
        queue.list(
          request.query.status ?? 'all',
          request.query.limit ?? 50,
          contextOf(request).actor.id ?? null,
        ),
    );

    app.post(
      '/api/v1/mobile/register/review/claim',
      {
        config: {
          access,
          errors: ['NOT_FOUND', 'REGISTRATION_STEP_OUT_OF_ORDER', 'REGISTRATION_REVIEW_CLAIMED'],
        },
        schema: {
          operationId: 'claimRegistrationReview',
          tags: ['onboarding'],
          summary: 'Take a registration in review (one reviewer at a time; a claim lapses after 30 minutes)',
          body: ReviewClaimBody,
          response: { 200: ReviewDecision },
        },
      },
      async (request) => queue.claim(request.body.registration_id, contextOf(request)),
    );

    app.post(
      '/api/v1/mobile/register/review/approve',
      {
        config: { access, errors: [...DECIDE_ERRORS, 'CUSTOMER_EXISTS', 'NO_WALLET_PRODUCT'] },
        schema: {
          operationId: 'approveRegistrationReview',
          tags: ['onboarding'],
          summary: 'Approve a claimed registration: the customer, wallet and credentials are created at once',
          description:
            'Activation in one transaction, as automatic approval does (the customer then signs in with phone and ' +
            'PIN). A phone, email, national ID or CBS client that became another customer’s answers 409 ' +
            'CUSTOMER_EXISTS and changes nothing.',
          body: ReviewApproveBody,
          response: { 200: ReviewDecision },
        },
      },
      async (request) => queue.approve(request.body.registration_id, request.body.note, contextOf(request)),
    );

    app.post(
      '/api/v1/mobile/register/review/reject',
      {
        config: { access, errors: [...DECIDE_ERRORS] },
        schema: {
          operationId: 'rejectRegistrationReview',
          tags: ['onboarding'],
          summary: 'Reject a claimed registration with a reason the customer reads',
          body: ReviewRejectBody,
          response: { 200: ReviewDecision },
        },
      },
      async (request) => queue.reject(request.body.registration_id, request.body.reason, contextOf(request)),
    );

    app.post(
      '/api/v1/mobile/register/review/request-info',
      {
        config: { access, errors: [...DECIDE_ERRORS] },
        schema: {
          operationId: 'requestRegistrationInfo',
          tags: ['onboarding'],
          summary: 'Ask the customer for more: reopen the identity step or the declared details',
          description:
            'The registration moves to `info_requested`; its status shows the message and the reopened step. Once ' +
            'the customer has sent it the registration comes back to the queue for a new round.',
          body: ReviewRequestInfoBody,
          response: { 200: ReviewDecision },
        },
      },
      async (request) =>
        queue.requestInfo(
          request.body.registration_id,
          request.body.step,
          request.body.message,
          contextOf(request),
        ),
    );
  };
}

/** `POST /api/v1/mobile/register/details`: the customer's corrected details, asked for by a reviewer (token header). */
export function detailsRoutes(journey: Journey, details: DetailsUpdate): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/mobile/register/details',
      {
        config: {
          access: { public: true },
          errors: ['REGISTRATION_TOKEN_INVALID', 'REGISTRATION_EXPIRED', 'REGISTRATION_STEP_OUT_OF_ORDER'],
        },
        schema: {
          operationId: 'registerDetailsUpdate',
          tags: ['onboarding'],
          summary: 'Send corrected details a reviewer asked for; the registration goes back to review',
          description:
            'Allowed when a reviewer reopened the details (`status.reopened_step` is `details_update`). The name ' +
            'and date of birth are compared again with the bank’s or the document’s, by the same rules, and the ' +
            'registration returns to the review queue. The same request again answers the same.',
          headers: RegistrationHeaders,
          body: DetailsUpdateBody,
          response: { 200: DetailsUpdateAnswer },
        },
      },
      async (request) => {
        const { headers } = request;
        const registration = await journey.byToken(headers['x-registration-token'], headers['x-device-id']);
        return details.update(registration, request.body, contextOf(request), headers['idempotency-key']);
      },
    );
  };
}
