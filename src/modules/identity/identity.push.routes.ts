/** Device registration (`/api/v1/auth/device`) and push approval (`/api/v1/auth/push/*`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal, staffOrCustomer } from '../../platform/http.ts';
import type { PushApprovals } from './identity.push.ts';
import {
  DeviceList,
  DeviceParams,
  DeviceRegisterBody,
  DeviceView,
  PushChallengeBody,
  PushChallengeCreated,
  PushChallengeParams,
  PushChallengeView,
  PushRespondBody,
  PushRespondResult,
} from './identity.schemas.ts';

export function pushRoutes(push: PushApprovals): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/auth/device/register',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'registerDevice',
          tags: ['auth'],
          summary: 'Register this device for push approvals (its Ed25519 public key and push token)',
          description:
            'The same `device_id` again replaces the key, name and push token. At most 10 active devices ' +
            '(409 `DEVICE_LIMIT`); a key that is not an Ed25519 public key answers 422 `INVALID_PUBLIC_KEY`.',
          body: DeviceRegisterBody,
          response: { 201: DeviceView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await push.registerDevice(requirePrincipal(request), request.body, contextOf(request))),
    );

    app.get(
      '/api/v1/auth/device',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'listDevices',
          tags: ['auth'],
          summary: 'Your registered devices',
          response: { 200: DeviceList },
        },
      },
      async (request) => ({ items: await push.listDevices(requirePrincipal(request)) }),
    );

    app.delete(
      '/api/v1/auth/device/:device_id',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'revokeDevice',
          tags: ['auth'],
          summary: 'Revoke one of your devices: it can no longer answer challenges',
          params: DeviceParams,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await push.revokeDevice(requirePrincipal(request), request.params.device_id, contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/auth/push/challenge',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'createPushChallenge',
          tags: ['auth'],
          summary: 'Ask your registered devices to approve a step (valid 2 minutes)',
          description:
            'Sends `push.challenge` through the notification outbox to every active device, or to `device_id`. ' +
            'Poll `GET /api/v1/auth/push/challenge/{id}` for the answer. 409 `NO_DEVICE` without a device.',
          body: PushChallengeBody,
          response: { 201: PushChallengeCreated },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await push.createChallenge(staffOrCustomer(requirePrincipal(request)), request.body)),
    );

    app.get(
      '/api/v1/auth/push/challenge/:id',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'getPushChallenge',
          tags: ['auth'],
          summary: 'Poll a push challenge: pending, approved, denied or expired',
          params: PushChallengeParams,
          response: { 200: PushChallengeView },
        },
      },
      async (request) => push.status(requirePrincipal(request), request.params.id),
    );

    app.post(
      '/api/v1/auth/push/respond',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'respondPushChallenge',
          tags: ['auth'],
          summary: 'Approve or deny a push challenge from the device, signed with its key',
          description:
            'Authenticated by the signature: Ed25519 over `codeforge-push-v1|<challenge_id>|<decision>|<nonce>` ' +
            'with the key registered for `device_id`. 401 `INVALID_SIGNATURE`; 409 `PUSH_CHALLENGE_CLOSED` once ' +
            'answered or expired; 423 after five bad signatures (the challenge closes).',
          body: PushRespondBody,
          response: { 200: PushRespondResult, 423: { $ref: 'ErrorBody#' } },
        },
      },
      async (request) => push.respond(request.body, contextOf(request)),
    );
  };
}
