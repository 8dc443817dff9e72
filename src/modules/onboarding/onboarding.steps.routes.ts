/**
 * The journey's contact, consent and credential steps under `/api/v1/mobile/register`: public routes that read the
 * registration token from `X-Registration-Token` (and the device from `X-Device-Id`). A step sent again with the same
 * body and Idempotency-Key answers the same; a step out of order answers 409 with the expected steps.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { contextOf } from '../../platform/http.ts';
import type { Consent } from './onboarding.consent.ts';
import type { ContactVerification, StepRequest } from './onboarding.contacts.ts';
import type { Credentials } from './onboarding.credentials.ts';
import {
  CurrentDocuments,
  DocumentsQuery,
  EmailOtpSendBody,
  EmptyBody,
  OtpSent,
  OtpVerifyBody,
  PinSetAnswer,
  PinSetBody,
  RegistrationHeaders,
  StepAnswer,
  TermsAcceptBody,
} from './onboarding.journey.schemas.ts';

const TOKEN_ERRORS = [
  'REGISTRATION_TOKEN_INVALID',
  'REGISTRATION_EXPIRED',
  'REGISTRATION_STEP_OUT_OF_ORDER',
] as const;
const OTP_SEND_ERRORS = [...TOKEN_ERRORS, 'OTP_COOLDOWN', 'OTP_RATE_LIMITED'] as const;
const OTP_VERIFY_ERRORS = [
  ...TOKEN_ERRORS,
  'REGISTRATION_OTP_NOT_SENT',
  'OTP_INVALID',
  'OTP_LOCKED',
] as const;

export function stepRequest(request: FastifyRequest): StepRequest {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    token: header('x-registration-token'),
    deviceId: header('x-device-id'),
    idempotencyKey: header('idempotency-key'),
    context: contextOf(request),
  };
}

export function stepRoutes(
  contacts: ContactVerification,
  consent: Consent,
  credentials: Credentials,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    const step = (operationId: string, summary: string) => ({
      operationId,
      tags: ['onboarding'],
      summary,
      headers: RegistrationHeaders,
    });

    app.post(
      '/api/v1/mobile/register/phone/otp/send',
      {
        config: { access: { public: true }, errors: [...OTP_SEND_ERRORS] },
        schema: {
          ...step(
            'registerPhoneOtpSend',
            'Send (or, with a new Idempotency-Key, resend) the phone OTP by SMS',
          ),
          body: EmptyBody,
          response: { 200: OtpSent },
        },
      },
      async (request) => contacts.sendPhoneCode(stepRequest(request)),
    );
    app.post(
      '/api/v1/mobile/register/phone/otp/verify',
      {
        config: { access: { public: true }, errors: [...OTP_VERIFY_ERRORS] },
        schema: {
          ...step('registerPhoneOtpVerify', 'Verify the phone with the code sent by SMS'),
          body: OtpVerifyBody,
          response: { 200: StepAnswer },
        },
      },
      async (request) => contacts.verifyPhoneCode(stepRequest(request), request.body),
    );
    app.post(
      '/api/v1/mobile/register/email/otp/send',
      {
        config: { access: { public: true }, errors: [...OTP_SEND_ERRORS] },
        schema: {
          ...step('registerEmailOtpSend', 'Send (or resend) the email OTP to an address'),
          body: EmailOtpSendBody,
          response: { 200: OtpSent },
        },
      },
      async (request) => contacts.sendEmailCode(stepRequest(request), request.body),
    );
    app.post(
      '/api/v1/mobile/register/email/otp/verify',
      {
        config: { access: { public: true }, errors: [...OTP_VERIFY_ERRORS] },
        schema: {
          ...step('registerEmailOtpVerify', 'Verify the email address with the code sent to it'),
          body: OtpVerifyBody,
          response: { 200: StepAnswer },
        },
      },
      async (request) => contacts.verifyEmailCode(stepRequest(request), request.body),
    );
    app.post(
      '/api/v1/mobile/register/email/skip',
      {
        config: { access: { public: true }, errors: [...TOKEN_ERRORS, 'REGISTRATION_EMAIL_REQUIRED'] },
        schema: {
          ...step('registerEmailSkip', 'Skip the email step (only when the email is optional)'),
          body: EmptyBody,
          response: { 200: StepAnswer },
        },
      },
      async (request) => contacts.skipEmail(stepRequest(request)),
    );

    app.get(
      '/api/v1/mobile/register/documents',
      {
        config: { access: { public: true }, errors: ['REGISTRATION_DOCUMENT_MISSING'] },
        schema: {
          operationId: 'registerDocuments',
          tags: ['onboarding'],
          summary: 'The current terms of service and privacy policy (in a language, English otherwise)',
          querystring: DocumentsQuery,
          response: { 200: CurrentDocuments },
        },
      },
      async (request) => consent.current(request.query.language),
    );
    app.post(
      '/api/v1/mobile/register/terms/accept',
      {
        config: {
          access: { public: true },
          errors: [...TOKEN_ERRORS, 'REGISTRATION_DOCUMENT_OUTDATED', 'REGISTRATION_DOCUMENT_MISSING'],
        },
        schema: {
          ...step(
            'registerTermsAccept',
            'Accept the current terms and privacy policy by their content hashes (time, IP and device are stored)',
          ),
          body: TermsAcceptBody,
          response: { 200: StepAnswer },
        },
      },
      async (request) => consent.accept(stepRequest(request), request.body),
    );

    app.post(
      '/api/v1/mobile/register/pin',
      {
        config: {
          access: { public: true },
          errors: [...TOKEN_ERRORS, 'PIN_POLICY', 'WEAK_PIN', 'INVALID_PUBLIC_KEY'],
        },
        schema: {
          ...step('registerPinSet', 'Set the PIN (the weak-PIN rules apply) and bind the device'),
          description:
            'With `device_public_key` (and `device_platform`), activation registers this device for push ' +
            'approvals for the new customer, so it can approve at once; without it only the device id is recorded.',
          body: PinSetBody,
          response: { 200: PinSetAnswer },
        },
      },
      async (request) => credentials.setPin(stepRequest(request), request.body),
    );
  };
}
