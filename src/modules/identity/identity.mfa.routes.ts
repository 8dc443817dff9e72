/**
 * `/api/v1/2fa/*` (authenticator app, SMS and email codes, security questions, the factor list) and the MFA step of a
 * login (`/api/v1/auth/mfa/send`, `/api/v1/auth/mfa/verify`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { identityErrors } from './identity.errors.ts';
import type { MfaService } from './identity.mfa.ts';
import { OTP_CHANNEL, OTP_FACTORS, otpFactorErrors } from './identity.mfa-otp.ts';
import { MIN_QUESTIONS, questionCatalogue } from './identity.questions.ts';
import {
  CodeSent,
  FactorList,
  LoginCodeSent,
  MfaSendBody,
  MfaVerifyBody,
  OtpFactorStatus,
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

const STAFF_ACCOUNTS_ONLY = 'Staff accounts only: customers get 403 (they confirm payments with their PIN).';

export function mfaRoutes(identity: IdentityService, mfa: MfaService): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Second factors are for staff sign-in; customers confirm money movements with their PIN (and OTP, later), agent
    // operators sign in on a bound device (or with the agents module's own SMS code).
    app.addHook('preValidation', async (request) => {
      if (request.url.startsWith('/api/v1/2fa/') && request.principal && request.principal.type !== 'user') {
        throw identityErrors.staffOnly();
      }
    });
    // …and the document says so: their access alone ("any signed-in principal") would promise customers a way in.
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/v1/2fa/')) return;
      route.schema ??= {};
      const schema = route.schema as { description?: string };
      if (!schema.description?.includes(STAFF_ACCOUNTS_ONLY)) {
        schema.description = [schema.description, STAFF_ACCOUNTS_ONLY].filter(Boolean).join('\n\n');
      }
    });
    app.post(
      '/api/v1/auth/mfa/verify',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'verifyMfa',
          tags: ['auth'],
          summary:
            'Second step of a login: the MFA token and a TOTP, recovery, SMS or email code, or answers',
          description:
            'Five tries per MFA token; the first success spends it. For `sms_otp` and `email_otp`, ask for the ' +
            'code with `/api/v1/auth/mfa/send` first.',
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

    app.post(
      '/api/v1/auth/mfa/send',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'sendMfaCode',
          tags: ['auth'],
          summary: 'Send an SMS or email code for a login waiting at its second factor',
          description:
            'A new code voids the previous one. One code a minute and five an hour per user and factor ' +
            '(429 with Retry-After). Sending spends none of the MFA token’s tries.',
          body: MfaSendBody,
          response: { 202: LoginCodeSent, 429: { $ref: 'ErrorBody#' } },
        },
      },
      async (request, reply) =>
        reply.code(202).send(await mfa.sendLoginCode(request.body.mfa_token, request.body.factor)),
    );

    app.get(
      '/api/v1/2fa/factors',
      {
        config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
        schema: {
          operationId: 'listMfaFactors',
          tags: ['2fa'],
          summary: 'Your second factors and whether each is on',
          response: { 200: FactorList },
        },
      },
      async (request) => mfa.listFactors(requirePrincipal(request)),
    );

    for (const factor of OTP_FACTORS) {
      const channel = OTP_CHANNEL[factor];
      const Name = channel === 'sms' ? 'Sms' : 'Email';
      const what = channel === 'sms' ? 'SMS-code' : 'email-code';
      app.get(
        `/api/v1/2fa/${channel}/status`,
        {
          config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
          schema: {
            operationId: `get${Name}OtpStatus`,
            tags: ['2fa'],
            summary: `Whether ${what} sign-in is on, and where codes go (masked)`,
            response: { 200: OtpFactorStatus },
          },
        },
        async (request) => mfa.otp.status(requirePrincipal(request), factor),
      );

      app.post(
        `/api/v1/2fa/${channel}/enrol`,
        {
          config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
          schema: {
            operationId: `enrol${Name}Otp`,
            tags: ['2fa'],
            summary: `Start ${what} sign-in: a code goes to your account ${channel === 'sms' ? 'phone' : 'email'}`,
            description:
              'Asking again sends a new code and voids the previous one (one a minute, five an hour: 429 with ' +
              'Retry-After).' +
              (channel === 'sms' ? ' Needs a phone number on the account (409 `PHONE_REQUIRED`).' : ''),
            response: { 202: CodeSent, 429: { $ref: 'ErrorBody#' } },
          },
        },
        async (request, reply) => {
          const principal = requirePrincipal(request);
          const user = (await identity.me(principal)).user;
          const destination = channel === 'sms' ? user?.phone : user?.email;
          if (!destination) throw otpFactorErrors.phoneRequired();
          return reply
            .code(202)
            .send(await mfa.otp.enrol(principal, factor, destination, contextOf(request)));
        },
      );

      app.post(
        `/api/v1/2fa/${channel}/confirm`,
        {
          config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
          schema: {
            operationId: `confirm${Name}Otp`,
            tags: ['2fa'],
            summary: `Turn ${what} sign-in on with the code that was sent`,
            description: 'Five tries per code (401 `OTP_INVALID`, then 423 `OTP_LOCKED`: enrol again).',
            body: TotpCodeBody,
            response: { 200: OtpFactorStatus, 423: { $ref: 'ErrorBody#' } },
          },
        },
        async (request) =>
          mfa.otp.confirm(requirePrincipal(request), factor, request.body.code, contextOf(request)),
      );

      app.post(
        `/api/v1/2fa/${channel}/disable`,
        {
          config: { access: { authenticated: true }, allowPendingMfaEnrollment: true },
          schema: {
            operationId: `disable${Name}Otp`,
            tags: ['2fa'],
            summary: `Turn ${what} sign-in off (needs your password)`,
            body: PasswordBody,
            response: { 204: { type: 'null' } },
          },
        },
        async (request, reply) => {
          const principal = requirePrincipal(request);
          await identity.confirmPassword(principal, request.body.password);
          await mfa.otp.disable(principal, factor, contextOf(request));
          return reply.code(204).send(null);
        },
      );
    }

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
