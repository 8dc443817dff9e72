/** HTTP routes of `/api/v1/auth` and the JWKS document. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { commonErrors } from '../../platform/errors.ts';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import {
  Jwks,
  LoginBody,
  LoginResult,
  MeView,
  PasswordChangeBody,
  PasswordForgotAccepted,
  PasswordForgotBody,
  PasswordResetBody,
  RefreshBody,
  RegisterBody,
  RevokedCount,
  SessionList,
  SessionParams,
  TokenPair,
  UserView,
} from './identity.schemas.ts';
import type { IdentityService } from './identity.service.ts';

export function identityRoutes(identity: IdentityService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/.well-known/jwks.json',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'getJwks',
          tags: ['auth'],
          summary: 'Public keys that verify issued tokens',
          response: { 200: Jwks },
        },
      },
      async () => identity.tokens.jwks(),
    );

    app.post(
      '/api/v1/auth/login',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'login',
          tags: ['auth'],
          summary: 'Log in with username, email or phone and password',
          description:
            'Answers a token pair, or `mfa_required` with an MFA token when a second factor is on. ' +
            'Locked accounts answer 423 with Retry-After, whether or not the account exists.',
          body: LoginBody,
          response: { 200: LoginResult, 423: { $ref: 'ErrorBody#' } },
        },
      },
      async (request) => identity.login(request.body.username, request.body.password, contextOf(request)),
    );

    app.post(
      '/api/v1/auth/refresh',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'refreshToken',
          tags: ['auth'],
          summary: 'Exchange a refresh token for a new pair (the old one is spent)',
          body: RefreshBody,
          response: { 200: TokenPair },
        },
      },
      async (request) => identity.sessions.refresh(request.body.refresh_token, contextOf(request)),
    );

    app.post(
      '/api/v1/auth/logout',
      {
        config: {
          access: { authenticated: true },
          allowPendingPasswordChange: true,
          allowPendingMfaEnrollment: true,
        },
        schema: {
          operationId: 'logout',
          tags: ['auth'],
          summary: 'End the current session',
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await identity.sessions.logout(requirePrincipal(request), contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/auth/me',
      {
        config: {
          access: { authenticated: true },
          allowPendingPasswordChange: true,
          allowPendingMfaEnrollment: true,
        },
        schema: {
          operationId: 'getMe',
          tags: ['auth'],
          summary: 'The signed-in principal',
          response: { 200: MeView },
        },
      },
      async (request) => identity.me(requirePrincipal(request)),
    );

    app.get(
      '/api/v1/auth/sessions',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'listSessions',
          tags: ['auth'],
          summary: 'Active sessions of the signed-in principal',
          response: { 200: SessionList },
        },
      },
      async (request) => ({ items: await identity.sessions.listSessions(requirePrincipal(request)) }),
    );

    app.delete(
      '/api/v1/auth/sessions/:id',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'revokeSession',
          tags: ['auth'],
          summary: 'Revoke one of your sessions',
          params: SessionParams,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await identity.sessions.revokeSession(
          requirePrincipal(request),
          request.params.id,
          contextOf(request),
        );
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/auth/sessions/revoke-others',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'revokeOtherSessions',
          tags: ['auth'],
          summary: 'Revoke every session but this one',
          response: { 200: RevokedCount },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        const revoked = await identity.sessions.revokeAllSessions(
          principal.id,
          'revoked_by_owner',
          contextOf(request),
          principal.sessionId,
        );
        return { revoked };
      },
    );

    app.post(
      '/api/v1/auth/password/change',
      {
        config: {
          access: { authenticated: true },
          allowPendingPasswordChange: true,
          allowPendingMfaEnrollment: true,
        },
        schema: {
          operationId: 'changePassword',
          tags: ['auth'],
          summary: 'Change your password; every session, this one included, ends',
          description: 'Staff accounts only: customers have a PIN, not a password, and get 403.',
          body: PasswordChangeBody,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await identity.changePassword(
          requirePrincipal(request),
          request.body.current_password,
          request.body.new_password,
          contextOf(request),
        );
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/auth/password/forgot',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'forgotPassword',
          tags: ['auth'],
          summary: 'Ask for a password-reset link (staff)',
          description:
            'Give `username` (a username, email or phone) or `email`. Always 202 with the same body, whether or ' +
            'not the account exists; an active account gets a single-use token valid 30 minutes through the ' +
            'notification outbox. Per address and per identifier requests are limited (429 with Retry-After).',
          body: PasswordForgotBody,
          response: { 202: PasswordForgotAccepted, 429: { $ref: 'ErrorBody#' } },
        },
      },
      async (request, reply) => {
        const { username, email } = request.body;
        const identifier = username ?? email;
        if (identifier === undefined || (username !== undefined && email !== undefined)) {
          throw commonErrors.validation('Give either username or email', {
            errors: [{ field: 'body', message: 'needs exactly one of username, email', rule: 'oneOf' }],
          });
        }
        return reply.code(202).send(await identity.passwordReset.request(identifier, contextOf(request)));
      },
    );

    app.post(
      '/api/v1/auth/password/reset',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'resetPassword',
          tags: ['auth'],
          summary: 'Set a new password with a reset token; every session ends and a login lock lifts',
          description:
            'The token works once and for 30 minutes (401 `INVALID_TOKEN` otherwise). The password policy ' +
            'applies (422 `PASSWORD_POLICY`; the token stays usable then).',
          body: PasswordResetBody,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await identity.passwordReset.reset(request.body.token, request.body.new_password, contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/auth/register',
      {
        config: { access: { permission: 'user:create' } },
        schema: {
          operationId: 'registerUser',
          tags: ['auth'],
          summary: 'Register a staff user (administrators)',
          body: RegisterBody,
          response: { 201: UserView },
        },
      },
      async (request, reply) => {
        const { must_change_password: mustChangePassword, ...input } = request.body;
        const user = await identity.createUser({ ...input, roles: input.roles ?? [] }, contextOf(request), {
          mustChangePassword,
        });
        return reply.code(201).send(user);
      },
    );
  };
}
