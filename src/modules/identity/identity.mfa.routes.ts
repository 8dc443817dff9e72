/** `/api/v1/2fa/totp` (authenticator-app enrolment) and the MFA step of a login. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../platform/errors.ts';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import type { MfaService } from './identity.mfa.ts';
import { MIN_QUESTIONS, questionCatalogue } from './identity.questions.ts';
import {
  MfaVerifyBody,
  PasswordBody,
  QuestionCatalogue,
  QuestionsBody,
  QuestionsStatus,
  RecoveryCodes,
  TokenPair,
  TotpCodeBody,
  TotpEnrolment,
  TotpStatus,
} from './identity.schemas.ts';
import type { IdentityService } from './identity.service.ts';

export function mfaRoutes(identity: IdentityService, mfa: MfaService): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Second factors are for staff sign-in; customers confirm money movements with their PIN (and OTP, later).
    app.addHook('preValidation', async (request) => {
      if (request.url.startsWith('/api/v1/2fa/') && request.principal?.type === 'customer') {
        throw new AppError(403, 'FORBIDDEN', 'Second factors here are for staff accounts');
      }
    });
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
          { code: request.body.code, answers: request.body.answers },
          contextOf(request),
        ),
    );

    app.get(
      '/api/v1/2fa/totp/status',
      {
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
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
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
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
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
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
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
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

    app.get(
      '/api/v1/2fa/questions/catalogue',
      {
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
        schema: {
          operationId: 'listSecurityQuestions',
          tags: ['2fa'],
          summary: 'Questions one may answer',
          response: { 200: QuestionCatalogue },
        },
      },
      async () => ({ items: questionCatalogue() }),
    );

    app.get(
      '/api/v1/2fa/questions/status',
      {
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
        schema: {
          operationId: 'getSecurityQuestionsStatus',
          tags: ['2fa'],
          summary: 'Which questions you have answered',
          response: { 200: QuestionsStatus },
        },
      },
      async (request) => {
        const questions = await mfa.questions.questionsOf(requirePrincipal(request));
        return { enabled: questions.length >= MIN_QUESTIONS, questions };
      },
    );

    app.post(
      '/api/v1/2fa/questions/set',
      {
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
        schema: {
          operationId: 'setSecurityQuestions',
          tags: ['2fa'],
          summary: 'Answer 3–5 security questions (replaces earlier answers; needs your password)',
          body: QuestionsBody,
          response: { 200: QuestionsStatus },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        await identity.confirmPassword(principal, request.body.password);
        const questions = await mfa.questions.set(principal, request.body.answers, contextOf(request));
        return { enabled: questions.length >= MIN_QUESTIONS, questions };
      },
    );

    app.post(
      '/api/v1/2fa/questions/clear',
      {
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
        schema: {
          operationId: 'clearSecurityQuestions',
          tags: ['2fa'],
          summary: 'Remove your security questions (needs your password)',
          body: PasswordBody,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        await identity.confirmPassword(principal, request.body.password);
        await mfa.questions.clear(principal, contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/2fa/totp/disable',
      {
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
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
