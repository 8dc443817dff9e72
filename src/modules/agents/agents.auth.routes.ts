/** Operator sign-in (`/api/v1/agent/auth/...`) and the operator's own profile (`/api/v1/agent/me`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { TokenPairSchema } from '../identity/index.ts';
import {
  AdminLoginBody,
  AdminMfaChallenge,
  AdminVerifyBody,
  ChallengeBody,
  ChallengeView,
  LoginBody,
  MeView,
} from './agents.auth.schemas.ts';
import type { AgentAuth } from './agents.auth.ts';

const TAGS = ['agents'];

export function agentAuthRoutes(auth: AgentAuth): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/agent/auth/challenge',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'agentLoginChallenge',
          tags: TAGS,
          summary: 'A single-use nonce for a teller’s device to sign (2 minutes)',
          body: ChallengeBody,
          response: { 200: ChallengeView },
        },
      },
      async (request) => auth.challenge(request.body),
    );

    app.post(
      '/api/v1/agent/auth/login',
      {
        config: {
          access: { public: true },
          errors: ['AGENT_AUTH_FAILED', 'AGENT_PIN_INVALID', 'AGENT_PIN_LOCKED', 'AGENT_OPERATOR_INACTIVE'],
        },
        schema: {
          operationId: 'agentLogin',
          tags: TAGS,
          summary: 'Teller sign-in: phone + PIN on the bound device (the nonce signed with its Ed25519 key)',
          description:
            'The session is on the `agent` channel; refresh and logout are identity’s `/api/v1/auth/refresh` and ' +
            '`/api/v1/auth/logout`. Wrong PINs lock the operator for a while after a few in a row.',
          body: LoginBody,
          response: { 200: TokenPairSchema },
        },
      },
      async (request) => auth.login(request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/agent/auth/admin/login',
      {
        config: {
          access: { public: true },
          errors: [
            'AGENT_AUTH_FAILED',
            'AGENT_PIN_INVALID',
            'AGENT_PIN_LOCKED',
            'AGENT_OPERATOR_INACTIVE',
            'OTP_RATE_LIMITED',
          ],
        },
        schema: {
          operationId: 'agentAdminLogin',
          tags: TAGS,
          summary: 'Agent admin sign-in: phone + password; then a second factor when one is required',
          body: AdminLoginBody,
          response: { 200: Type.Union([TokenPairSchema, AdminMfaChallenge]) },
        },
      },
      async (request) => auth.adminLogin(request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/agent/auth/admin/verify',
      {
        config: { access: { public: true }, errors: ['AGENT_MFA_INVALID', 'AGENT_OPERATOR_INACTIVE'] },
        schema: {
          operationId: 'agentAdminVerify',
          tags: TAGS,
          summary: 'Agent admin sign-in, second step: the code sent to the admin’s phone',
          body: AdminVerifyBody,
          response: { 200: TokenPairSchema },
        },
      },
      async (request) => auth.adminVerify(request.body, contextOf(request)),
    );

    app.get(
      '/api/v1/agent/me',
      {
        config: {
          access: { permission: 'agent_op:read' },
          errors: ['AGENT_SCOPE_REQUIRED', 'AGENT_OPERATOR_NOT_FOUND'],
        },
        schema: {
          operationId: 'getAgentMe',
          tags: TAGS,
          summary: 'The signed-in operator: profile, role, agent and store',
          response: { 200: MeView },
        },
      },
      async (request) => auth.me(requirePrincipal(request)),
    );
  };
}
