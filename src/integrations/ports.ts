/**
 * The provider ports: the delivery channels behind one interface each. A provider client (src/integrations/<provider>)
 * implements one and speaks its wire format; the notifications delivery worker only sees these shapes and
 * `ProviderError`, and decides retries, fail-over and dead-lettering from `retryable` and `code`. They live here, not
 * in the notifications module, so that integrations import nothing from src/modules.
 */

/** `dev_sink`: the development message sink (dev-sink.ts), never in production. */
export type SmsProviderName = 'twilio' | 'africastalking' | 'dev_sink';
export type EmailProviderName = 'smtp' | 'sendgrid' | 'dev_sink';
export type PushProviderName = 'fcm';
export type ProviderName = SmsProviderName | EmailProviderName | PushProviderName | 'in_app';

/** What the provider said about a message it accepted. */
export interface SendResult {
  provider: ProviderName;
  /** The provider's id of the message (Twilio SM…, AT ATXid_…, SendGrid X-Message-Id, FCM projects/…/messages/…). */
  providerMessageId: string;
  /** The provider's own status word, verbatim (queued, accepted, Success, 202, …). */
  providerStatus: string;
  /** SMS segments billed (Twilio num_segments; counted locally for Africa's Talking). */
  segments?: number;
}

/**
 * A refusal or failure of a provider. `retryable` means the same message may succeed later (5xx, 429, network);
 * `code` is the provider's code (21211, 403 InvalidPhoneNumber, UNREGISTERED, …) or NETWORK / TIMEOUT.
 */
export class ProviderError extends Error {
  readonly provider: ProviderName;
  readonly code: string;
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** The address itself is dead (FCM UNREGISTERED, or INVALID_ARGUMENT about the token): forget it. */
  readonly addressGone: boolean;

  constructor(
    provider: ProviderName,
    code: string,
    message: string,
    options: { retryable: boolean; httpStatus?: number; retryAfterSeconds?: number; addressGone?: boolean },
  ) {
    super(message);
    this.name = 'ProviderError';
    this.provider = provider;
    this.code = code;
    this.retryable = options.retryable;
    this.httpStatus = options.httpStatus;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.addressGone = options.addressGone ?? false;
  }
}

export interface SmsMessage {
  /** E.164, e.g. +254712345678. */
  to: string;
  body: string;
  /** Where the provider posts delivery status (Twilio StatusCallback); absent when callbacks are not configured. */
  statusCallbackUrl?: string;
}

export interface SmsProvider {
  readonly name: SmsProviderName;
  send(message: SmsMessage): Promise<SendResult>;
}

export interface EmailMessage {
  to: string;
  toName?: string;
  subject: string;
  text: string;
  html?: string;
}

export interface EmailProvider {
  readonly name: EmailProviderName;
  send(message: EmailMessage): Promise<SendResult>;
  close?(): Promise<void>;
}

export interface PushMessage {
  /** The device's FCM registration token. */
  token: string;
  title: string;
  body: string;
  /** String to string only (FCM rule). */
  data?: Record<string, string>;
}

export interface PushProvider {
  readonly name: PushProviderName;
  send(message: PushMessage): Promise<SendResult>;
}

/** Who is screened against sanctions and PEP lists before an account opens (self-registration's completion). */
export interface ScreeningSubject {
  fullName: string;
  /** ISO date. */
  dateOfBirth?: string;
  /** ISO 3166 alpha-2 or alpha-3, as the identity source gave it. */
  nationality?: string;
  country?: string;
}

export interface ScreeningResult {
  /** True when a list names the subject: the registration goes to manual review. */
  hit: boolean;
  /** The lists or entries matched, in words a reviewer reads (no PII beyond the list's own entry name). */
  matches: string[];
  /** Which screening answered (`noop` until the AML module provides one). */
  provider: string;
}

/**
 * Sanctions / PEP screening. The AML module implements it later; until then `noopScreening` answers "no hit" and
 * says so (`configured: false`), so readiness can report that nobody is screened.
 */
export interface ScreeningPort {
  readonly name: string;
  readonly configured: boolean;
  screen(subject: ScreeningSubject): Promise<ScreeningResult>;
}

export const noopScreening: ScreeningPort = {
  name: 'noop',
  configured: false,
  screen: async () => ({ hit: false, matches: [], provider: 'noop' }),
};
