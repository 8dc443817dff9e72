/** `/api/v1/2fa/totp` (authenticator-app enrolment) and the MFA step of a login. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import type { MfaService } from './identity.mfa.ts';
import {
  MfaVerifyBody,
  PasswordBody,
  RecoveryCodes,
  TokenPair,
  TotpCodeBody,
  TotpEnrolment,
  TotpStatus,
} from './identity.schemas.ts';
import type { IdentityService } from './identity.service.ts';

export function mfaRoutes(identity: IdentityService, mfa: MfaService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/auth/mfa/verify',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'verifyMfa',
          tags: ['auth'],
          summary: 'Second step of a login: the MFA token and a TOTP or recovery code',
          body: MfaVerifyBody,
          response: { 200: TokenPair },
        },
      },
      async (request) =>
        identity.completeMfaLogin(
          request.body.mfa_token,
          request.body.factor,
          request.body.code,
          contextOf(request),
        ),
    );

    app.get(
      '/api/v1/2fa/totp/status',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'getTotpStatus',
          tags: ['2fa'],
          summary: 'Whether authenticator-app sign-in is on',
          response: { 200: TotpStatus },
        },
      },
      async (request) => mfa.status(requirePrincipal(request)),
    );

    app.post(
      '/api/v1/2fa/totp/enrol',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'enrolTotp',
          tags: ['2fa'],
          summary: 'Start enrolment: a new secret as text, otpauth URI and QR code',
          response: { 200: TotpEnrolment },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        const me = await identity.me(principal);
        return mfa.enrol(principal, me.user?.email ?? principal.id, contextOf(request));
      },
    );

    app.post(
      '/api/v1/2fa/totp/confirm',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'confirmTotp',
          tags: ['2fa'],
          summary: 'Finish enrolment with a first code; returns 10 recovery codes, shown once',
          body: TotpCodeBody,
          response: { 200: RecoveryCodes },
        },
      },
      async (request) => mfa.confirm(requirePrincipal(request), request.body.code, contextOf(request)),
    );

    app.post(
      '/api/v1/2fa/totp/recovery-codes',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'regenerateRecoveryCodes',
          tags: ['2fa'],
          summary: 'Replace the recovery codes (the old ones stop working)',
          body: TotpCodeBody,
          response: { 200: RecoveryCodes },
        },
      },
      async (request) =>
        mfa.regenerateRecoveryCodes(requirePrincipal(request), request.body.code, contextOf(request)),
    );

    app.post(
      '/api/v1/2fa/totp/disable',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'disableTotp',
          tags: ['2fa'],
          summary: 'Turn authenticator-app sign-in off (needs your password)',
          body: PasswordBody,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        await identity.confirmPassword(principal, request.body.password);
        await mfa.disable(principal, contextOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
