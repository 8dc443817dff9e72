/** The delivery channels configured by the environment (the module's own variables, notifications.config.ts). */
import { AfricasTalkingSmsClient } from '../../integrations/africastalking/africastalking.client.ts';
import { FcmPushClient, loadServiceAccount } from '../../integrations/fcm/fcm.client.ts';
import type { EmailProvider, PushProvider, SmsProvider } from '../../integrations/ports.ts';
import { SendGridEmailClient } from '../../integrations/sendgrid/sendgrid.client.ts';
import { SmtpEmailClient } from '../../integrations/smtp/smtp.client.ts';
import { TwilioSmsClient } from '../../integrations/twilio/twilio.client.ts';
import type { NotificationsConfig } from './notifications.config.ts';
import type { DeliveryChannels } from './notifications.delivery.ts';

export class ProviderConfigError extends Error {}

function smsProvider(config: NotificationsConfig, name: string): SmsProvider {
  const timeoutMs = config.NOTIFY_PROVIDER_TIMEOUT_MS;
  if (name === 'twilio') {
    if (!config.TWILIO_ACCOUNT_SID || !config.TWILIO_AUTH_TOKEN)
      throw new ProviderConfigError(
        'SMS_PROVIDERS names twilio: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
      );
    if (!config.TWILIO_FROM_NUMBER && !config.TWILIO_MESSAGING_SERVICE_SID)
      throw new ProviderConfigError('twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID');
    return new TwilioSmsClient({
      baseUrl: config.TWILIO_BASE_URL,
      accountSid: config.TWILIO_ACCOUNT_SID,
      authToken: config.TWILIO_AUTH_TOKEN,
      ...(config.TWILIO_MESSAGING_SERVICE_SID
        ? { messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID }
        : { from: config.TWILIO_FROM_NUMBER! }),
      timeoutMs,
    });
  }
  if (name === 'africastalking') {
    if (!config.AFRICASTALKING_USERNAME || !config.AFRICASTALKING_API_KEY)
      throw new ProviderConfigError(
        'SMS_PROVIDERS names africastalking: set AFRICASTALKING_USERNAME and AFRICASTALKING_API_KEY',
      );
    return new AfricasTalkingSmsClient({
      baseUrl: config.AFRICASTALKING_BASE_URL,
      username: config.AFRICASTALKING_USERNAME,
      apiKey: config.AFRICASTALKING_API_KEY,
      ...(config.AFRICASTALKING_SENDER_ID ? { senderId: config.AFRICASTALKING_SENDER_ID } : {}),
      timeoutMs,
    });
  }
  throw new ProviderConfigError(`SMS_PROVIDERS: unknown provider "${name}" (twilio, africastalking)`);
}

function emailProvider(config: NotificationsConfig): EmailProvider | null {
  const timeoutMs = config.NOTIFY_PROVIDER_TIMEOUT_MS;
  if (config.EMAIL_PROVIDER === 'smtp') {
    if (!config.SMTP_SERVER) throw new ProviderConfigError('EMAIL_PROVIDER=smtp needs SMTP_SERVER');
    return new SmtpEmailClient({
      host: config.SMTP_SERVER,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      ...(config.SMTP_USERNAME ? { username: config.SMTP_USERNAME } : {}),
      ...(config.SMTP_PASSWORD ? { password: config.SMTP_PASSWORD } : {}),
      from: config.SMTP_FROM,
      fromName: config.SMTP_FROM_NAME,
      timeoutMs,
    });
  }
  if (config.EMAIL_PROVIDER === 'sendgrid') {
    if (!config.SENDGRID_API_KEY)
      throw new ProviderConfigError('EMAIL_PROVIDER=sendgrid needs SENDGRID_API_KEY');
    return new SendGridEmailClient({
      baseUrl: config.SENDGRID_BASE_URL,
      apiKey: config.SENDGRID_API_KEY,
      from: config.SMTP_FROM,
      fromName: config.SMTP_FROM_NAME,
      timeoutMs,
    });
  }
  return null;
}

function pushProvider(config: NotificationsConfig): PushProvider | null {
  if (!config.FIREBASE_PROJECT_ID) return null;
  if (!config.FIREBASE_CREDENTIALS)
    throw new ProviderConfigError('FIREBASE_PROJECT_ID is set: set FIREBASE_CREDENTIALS too');
  return new FcmPushClient({
    projectId: config.FIREBASE_PROJECT_ID,
    serviceAccount: loadServiceAccount(config.FIREBASE_CREDENTIALS),
    baseUrl: config.FCM_BASE_URL,
    timeoutMs: config.NOTIFY_PROVIDER_TIMEOUT_MS,
  });
}

export function channelsFromConfig(config: NotificationsConfig): DeliveryChannels {
  return {
    sms: config.SMS_PROVIDERS.map((name) => smsProvider(config, name)),
    email: emailProvider(config),
    push: pushProvider(config),
  };
}
