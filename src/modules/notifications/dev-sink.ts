/**
 * The development message sink: with no SMS or email provider configured (a fresh clone, the quick start), messages
 * on that channel are kept here instead of failing with "No … provider is configured", so a person can still finish
 * every flow that sends a code or a link — email MFA, password reset, the SMS code of a large payment. The last
 * DEV_MESSAGE_SINK_SIZE messages per recipient are kept in the ephemeral store (Redis across nodes, so the worker
 * that delivers and the API node that shows them may differ; memory on the embedded setup), shown to staff at
 * `GET /api/v1/dev/messages`, and logged at info. It exists only when DEV_MESSAGE_SINK is on, which configuration
 * refuses with PRODUCTION=true: it shows secrets by design.
 *
 * Storage is two rings of slots, written without locks: each recipient has DEV_MESSAGE_SINK_SIZE slots, and every
 * message also goes into one of RECENT_SLOTS shared slots (the listing without a recipient). An atomic counter picks
 * the slot, so concurrent sends never overwrite each other's slot unless more than a ring's size are in flight.
 */
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { Config } from '../../config.ts';
import type {
  EmailMessage,
  EmailProvider,
  SendResult,
  SmsMessage,
  SmsProvider,
} from '../../integrations/ports.ts';
import { toE164 } from '../../integrations/sms.ts';
import type { EphemeralStore } from '../../platform/cache.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { loggerOptions } from '../../platform/logging.ts';
import { devSinkOn, type NotificationsConfig } from './notifications.config.ts';

/** Messages kept across all recipients for the listing without `to`. */
export const RECENT_SLOTS = 200;
/** Kept messages and counters expire after a day without new messages. */
const TTL_MS = 24 * 60 * 60 * 1000;
const PREFIX = 'devsink:';

export interface DevMessage {
  id: string;
  channel: 'sms' | 'email';
  /** E.164 phone number or lower-case email address. */
  to: string;
  subject: string | null;
  body: string;
  html: string | null;
  kept_at: string;
}

/** One form per address, so `?to=` finds a message however the number or email was written. */
export function normalizeRecipient(address: string): string {
  const trimmed = address.trim();
  if (trimmed.includes('@')) return trimmed.toLowerCase();
  return toE164(trimmed) ?? trimmed;
}

export class DevMessageSink {
  readonly #store: EphemeralStore;
  readonly #perRecipient: number;
  /** Replaced by the API's logger when the routes are mounted, so the lines join the API's log. */
  log: FastifyBaseLogger;

  constructor(store: EphemeralStore, options: { perRecipient: number; log: FastifyBaseLogger }) {
    this.#store = store;
    this.#perRecipient = options.perRecipient;
    this.log = options.log;
  }

  /** The SMS channel's provider. */
  readonly sms: SmsProvider = {
    name: 'dev_sink',
    send: (message: SmsMessage) => this.#keep('sms', message.to, null, message.body, null),
  };

  /** The email channel's provider. */
  readonly email: EmailProvider = {
    name: 'dev_sink',
    send: (message: EmailMessage) =>
      this.#keep('email', message.to, message.subject, message.text, message.html ?? null),
  };

  async #keep(
    channel: DevMessage['channel'],
    address: string,
    subject: string | null,
    body: string,
    html: string | null,
  ): Promise<SendResult> {
    const to = normalizeRecipient(address);
    const message: DevMessage = {
      id: uuidv7(),
      channel,
      to,
      subject,
      body,
      html,
      kept_at: new Date().toISOString(),
    };
    const value = JSON.stringify(message);
    const [own, recent] = await Promise.all([
      this.#store.increment(`${PREFIX}n:${to}`, TTL_MS),
      this.#store.increment(`${PREFIX}n`, TTL_MS),
    ]);
    await Promise.all([
      this.#store.set(`${PREFIX}to:${to}:${own % this.#perRecipient}`, value, TTL_MS),
      this.#store.set(`${PREFIX}recent:${recent % RECENT_SLOTS}`, value, TTL_MS),
    ]);
    this.log.info(
      { dev_message: { id: message.id, channel, to, subject, body } },
      `development sink kept a ${channel} message to ${to} (GET /api/v1/dev/messages?to=${encodeURIComponent(to)})`,
    );
    return { provider: 'dev_sink', providerMessageId: message.id, providerStatus: 'kept' };
  }

  /** Newest first; only one recipient's when `to` is given. */
  async list(filter: { to?: string; channel?: DevMessage['channel']; limit: number }): Promise<DevMessage[]> {
    const keys =
      filter.to === undefined
        ? Array.from({ length: RECENT_SLOTS }, (_, slot) => `${PREFIX}recent:${slot}`)
        : Array.from(
            { length: this.#perRecipient },
            (_, slot) => `${PREFIX}to:${normalizeRecipient(filter.to!)}:${slot}`,
          );
    const values = await Promise.all(keys.map((key) => this.#store.get(key)));
    return values
      .filter((value): value is string => value !== null)
      .map((value) => JSON.parse(value) as DevMessage)
      .filter((message) => filter.channel === undefined || message.channel === filter.channel)
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, filter.limit);
  }
}

/** The sink when DEV_MESSAGE_SINK is on (never in production); null otherwise. */
export function devSinkFromConfig(
  config: Pick<NotificationsConfig, 'DEV_MESSAGE_SINK' | 'DEV_MESSAGE_SINK_SIZE'>,
  platform: Pick<Config, 'PRODUCTION' | 'LOG_LEVEL'>,
  store: EphemeralStore,
): DevMessageSink | null {
  if (!devSinkOn(config, platform.PRODUCTION)) return null;
  return new DevMessageSink(store, {
    perRecipient: config.DEV_MESSAGE_SINK_SIZE,
    log: pino(loggerOptions(platform.LOG_LEVEL)),
  });
}
