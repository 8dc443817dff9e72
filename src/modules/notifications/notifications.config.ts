/**
 * The notifications module's own environment variables: the delivery providers (SMS, email, push) and their
 * callbacks, retries, retention, the password-reset link and the development message sink. Parsed with the rest at
 * start-up (PRODUCTION=true refuses a provider identity without its secret, and the sink turned on); the provider
 * clients in `src/integrations/` receive their settings from here as constructor options.
 */
import {
  boolean,
  ConfigProblem,
  integer,
  list,
  type ModuleConfig,
  needsSecretInProduction,
  oneOf,
  pathSecrets,
  refusedInProduction,
  text,
  url,
  variable,
} from '../../platform/config-spec.ts';

export const notificationsConfig = {
  NOTIFICATION_RETENTION_DAYS: variable(
    'Days a finished notification (sent, delivered, failed, dead, suppressed) and a provider delivery report are kept before the daily purge (0: keep them all). Queued ones are always kept.',
    '365',
    integer(0, 3650),
  ),
  SMS_PROVIDERS: variable(
    'SMS providers in order of preference (twilio, africastalking); the next one takes over when one fails. Empty: no SMS.',
    '',
    list,
  ),
  EMAIL_PROVIDER: variable(
    'Email provider: smtp or sendgrid; empty: no email.',
    '',
    oneOf('', 'smtp', 'sendgrid'),
  ),
  SMTP_SERVER: variable('SMTP host for email.', undefined, text),
  SMTP_PORT: variable('SMTP port.', '587', integer(1, 65535)),
  SMTP_SECURE: variable(
    'SMTP over TLS from the first byte (port 465); false uses STARTTLS when offered.',
    'false',
    boolean,
  ),
  SMTP_USERNAME: needsSecretInProduction(variable('SMTP user.', undefined, text), 'SMTP_PASSWORD'),
  SMTP_PASSWORD: variable('SMTP password.', undefined, text, true),
  SMTP_FROM: variable('From address of outgoing email.', 'no-reply@example.com', text),
  SMTP_FROM_NAME: variable('Display name of the From address.', 'CodeForge', text),
  SENDGRID_API_KEY: variable('SendGrid v3 API key (SG.…).', undefined, text, true),
  SENDGRID_BASE_URL: variable('SendGrid API root.', 'https://api.sendgrid.com', url(['http:', 'https:'])),
  SENDGRID_WEBHOOK_PUBLIC_KEY: variable(
    'Base64 DER public key (ECDSA P-256) that verifies SendGrid event webhooks, or a comma-separated list during a key rotation; unset: the webhook is refused.',
    undefined,
    text,
  ),
  TWILIO_ACCOUNT_SID: needsSecretInProduction(
    variable('Twilio account SID (SMS).', undefined, text),
    'TWILIO_AUTH_TOKEN',
  ),
  TWILIO_AUTH_TOKEN: variable('Twilio auth token.', undefined, text, true),
  TWILIO_AUTH_TOKEN_PREVIOUS: variable(
    'The auth token before a rotation: status callbacks signed with it are still accepted until it is unset.',
    undefined,
    text,
    true,
  ),
  TWILIO_FROM_NUMBER: variable('Twilio sender number (E.164).', undefined, text),
  TWILIO_MESSAGING_SERVICE_SID: variable(
    'Twilio messaging service (MG…), used instead of TWILIO_FROM_NUMBER.',
    undefined,
    text,
  ),
  TWILIO_BASE_URL: variable('Twilio API root.', 'https://api.twilio.com', url(['http:', 'https:'])),
  AFRICASTALKING_USERNAME: needsSecretInProduction(
    variable("Africa's Talking application username (sandbox for the sandbox).", undefined, text),
    'AFRICASTALKING_API_KEY',
  ),
  AFRICASTALKING_API_KEY: variable("Africa's Talking API key.", undefined, text, true),
  AFRICASTALKING_SENDER_ID: variable(
    "Africa's Talking sender id or short code; unset: the account default.",
    undefined,
    text,
  ),
  AFRICASTALKING_BASE_URL: variable(
    "Africa's Talking API root (https://api.sandbox.africastalking.com for the sandbox).",
    'https://api.africastalking.com',
    url(['http:', 'https:']),
  ),
  AFRICASTALKING_CALLBACK_SECRET: variable(
    "Secret path segment of the Africa's Talking delivery-report callback (the reports are unsigned; 1–100 URL-safe characters), or a comma-separated list during a rotation; unset: refused.",
    undefined,
    pathSecrets,
    true,
  ),
  FIREBASE_PROJECT_ID: needsSecretInProduction(
    variable('Firebase project for FCM push.', undefined, text),
    'FIREBASE_CREDENTIALS',
  ),
  FIREBASE_CREDENTIALS: variable('Path to, or JSON of, the Firebase service account.', undefined, text, true),
  FCM_BASE_URL: variable('FCM HTTP v1 API root.', 'https://fcm.googleapis.com', url(['http:', 'https:'])),
  PASSWORD_RESET_URL: variable(
    'Link sent in password-reset emails; {token} is replaced by the reset token. Unset: under PUBLIC_BASE_URL.',
    '{PUBLIC_BASE_URL}/reset-password?token={token}',
    (raw: string) => {
      if (!raw.includes('{token}')) throw new ConfigProblem('must contain {token}');
      url(['http:', 'https:'])(raw.replace('{token}', 'token'));
      return raw;
    },
  ),
  NOTIFY_MAX_ATTEMPTS: variable(
    'Delivery attempts of one notification before it is dead-lettered.',
    '8',
    integer(1, 50),
  ),
  NOTIFY_RETRY_BASE_SECONDS: variable(
    'First retry delay of a failed delivery; doubles each attempt, with jitter.',
    '5',
    integer(1, 3600),
  ),
  NOTIFY_PROVIDER_TIMEOUT_MS: variable('Timeout of one provider call.', '10000', integer(100, 120000)),
  DEV_MESSAGE_SINK: refusedInProduction(
    variable(
      'Development message sink: SMS and email with no provider configured are kept (last DEV_MESSAGE_SINK_SIZE per recipient) for GET /api/v1/dev/messages and logged at info, so codes and reset links can be read without a provider. auto: on unless PRODUCTION=true; true is refused in production.',
      'auto',
      (raw: string): boolean | 'auto' => (raw.trim().toLowerCase() === 'auto' ? 'auto' : boolean(raw)),
    ),
    (on) =>
      on === true
        ? 'DEV_MESSAGE_SINK must not be on in production (it shows codes and reset links)'
        : undefined,
  ),
  DEV_MESSAGE_SINK_SIZE: variable(
    'Messages the development sink keeps per recipient (older ones are dropped).',
    '20',
    integer(1, 1000),
  ),
};

export type NotificationsConfig = ModuleConfig<typeof notificationsConfig>;

/** DEV_MESSAGE_SINK with auto applied: on unless PRODUCTION=true. */
export function devSinkOn(
  config: Pick<NotificationsConfig, 'DEV_MESSAGE_SINK'>,
  production: boolean,
): boolean {
  return config.DEV_MESSAGE_SINK === 'auto' ? !production : config.DEV_MESSAGE_SINK;
}
