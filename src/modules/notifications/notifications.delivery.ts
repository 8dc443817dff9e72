/**
 * Delivery of one queued notification (the `notify.deliver` job) and provider delivery reports.
 *
 * A delivery first claims the row (queued → sending, attempts + 1, a lease) in its own statement, so two workers
 * never send the same message; a worker that dies holding the lease leaves it to expire and the message is taken
 * over. The only window for a duplicate is the provider call itself (sent, but the worker died before recording it):
 * a duplicate alert is preferred to a lost code (ADR 0015). Failures retry with exponential backoff and jitter until
 * NOTIFY_MAX_ATTEMPTS, then the message is dead-lettered (`dead`); a refusal that cannot change (bad number,
 * unregistered device) fails at once. SMS fails over to the next configured provider within the attempt.
 */
import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import {
  type EmailProvider,
  ProviderError,
  type ProviderName,
  type PushProvider,
  type SendResult,
  type SmsProvider,
} from '../../integrations/ports.ts';
import { toE164 } from '../../integrations/sms.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { devicePushToken, forgetPushToken } from '../identity/index.ts';
import type { NotificationsConfig } from './notifications.config.ts';
import { inboxView, type NotificationRow } from './notifications.inbox.ts';
import { DELIVER_JOB, templateText } from './notifications.service.ts';
import { notificationDeliveryReports, notifications } from './notifications.tables.ts';
import type { TemplatesService } from './templates.service.ts';
import { render } from './templates.ts';

/** How delivery retries and waits on providers. */
export type DeliverySettings = Pick<
  NotificationsConfig,
  'NOTIFY_MAX_ATTEMPTS' | 'NOTIFY_RETRY_BASE_SECONDS' | 'NOTIFY_PROVIDER_TIMEOUT_MS'
>;

export interface DeliveryChannels {
  /** In order of preference; the next takes over when one fails. */
  sms: SmsProvider[];
  email: EmailProvider | null;
  push: PushProvider | null;
}

/** Where in-app messages are pushed live (the WebSocket hub); publishing is best effort. */
export interface RealtimePublisher {
  publishToPrincipal(
    principalType: 'customer' | 'user',
    principalId: string,
    event: { channel: string; type: string; data: unknown },
  ): Promise<void>;
}

export type DeliveryOutcome = 'sent' | 'delivered' | 'retry' | 'failed' | 'dead' | 'skipped';

/** A delivery not finished within this is presumed dead and taken over. */
function leaseMs(timeoutMs: number): number {
  return 2 * timeoutMs + 5_000;
}

/** Exponential backoff with jitter: base × 2^(attempt-1), capped at an hour, drawn from [half, whole]. */
export function backoffMs(attempt: number, baseSeconds: number, random = Math.random): number {
  const whole = Math.min(3_600_000, baseSeconds * 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(whole / 2 + random() * (whole / 2));
}

/** Provider status words → our status; null: not a final word (sending, queued, …). */
const FINAL_STATUS: Record<string, 'delivered' | 'failed' | 'sent'> = {
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'failed',
  sent: 'sent',
  // Africa's Talking
  Success: 'delivered',
  Rejected: 'failed',
  Failed: 'failed',
  // SendGrid
  bounce: 'failed',
  dropped: 'failed',
};

export class NotificationDelivery {
  readonly #deps: Dependencies;
  readonly #templates: TemplatesService;
  readonly #channels: DeliveryChannels;
  readonly #realtime: RealtimePublisher | null;

  /** NOTIFY_MAX_ATTEMPTS, NOTIFY_RETRY_BASE_SECONDS and NOTIFY_PROVIDER_TIMEOUT_MS (the module's variables). */
  readonly settings: DeliverySettings;

  constructor(
    deps: Dependencies,
    templates: TemplatesService,
    channels: DeliveryChannels,
    realtime: RealtimePublisher | null,
    settings: DeliverySettings,
  ) {
    this.settings = settings;
    this.#deps = deps;
    this.#templates = templates;
    this.#channels = channels;
    this.#realtime = realtime;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  /** One attempt at one notification; safe to call any number of times. */
  async deliver(id: string): Promise<DeliveryOutcome> {
    const row = await this.#claim(id);
    if (!row) return 'skipped';
    if (row.channel === 'in_app') {
      await this.#db
        .update(notifications)
        .set({
          status: 'delivered',
          provider: 'in_app',
          deliveredAt: new Date(),
          leaseUntil: null,
          updatedAt: new Date(),
        })
        .where(eq(notifications.id, row.id));
      await this.#realtime
        ?.publishToPrincipal(row.recipientType, row.recipientId, {
          channel: 'notifications',
          type: 'notification.created',
          data: inboxView({ ...row, status: 'delivered' }),
        })
        .catch(() => {});
      return 'delivered';
    }
    let result: SendResult;
    try {
      result = await this.#send(row);
    } catch (error) {
      return this.#failed(row, error);
    }
    return this.#sent(row, result);
  }

  async #claim(id: string): Promise<NotificationRow | null> {
    const now = new Date();
    const [row] = await this.#db
      .update(notifications)
      .set({
        status: 'sending',
        attempts: sql`${notifications.attempts} + 1`,
        leaseUntil: new Date(now.getTime() + leaseMs(this.settings.NOTIFY_PROVIDER_TIMEOUT_MS)),
        updatedAt: now,
      })
      .where(
        and(
          eq(notifications.id, id),
          or(
            eq(notifications.status, 'queued'),
            and(eq(notifications.status, 'sending'), lt(notifications.leaseUntil, now)),
          ),
        ),
      )
      .returning();
    if (row) return row;
    const [current] = await this.#db
      .select({ status: notifications.status, leaseUntil: notifications.leaseUntil })
      .from(notifications)
      .where(eq(notifications.id, id))
      .limit(1);
    // Another worker holds it: fail this job so the queue retries it after the lease (the holder may die).
    if (current?.status === 'sending')
      throw new Error(`notification ${id} is being delivered by another worker`);
    return null;
  }

  async #send(row: NotificationRow): Promise<SendResult> {
    const template = await this.#templates.byId(this.#db, row.templateId);
    if (!template)
      throw new ProviderError('in_app', 'TEMPLATE_GONE', 'The template was deleted', { retryable: false });
    const secrets = row.secretsSealed
      ? (JSON.parse(
          openEnvelope(
            this.#deps.keys,
            JSON.parse(row.secretsSealed) as Envelope,
            `notification:${row.id}`,
          ).toString('utf8'),
        ) as Record<string, string>)
      : null;
    const rendered = render(templateText(template), row.variables, secrets);
    switch (row.channel) {
      case 'sms':
        return this.#sendSms(row.address!, rendered.body);
      case 'email': {
        const email = this.#channels.email;
        if (!email) throw notConfigured('email');
        return email.send({
          to: row.address!,
          subject: rendered.subject ?? '',
          text: rendered.body,
          ...(rendered.html === null ? {} : { html: rendered.html }),
        });
      }
      case 'push': {
        const push = this.#channels.push;
        if (!push) throw notConfigured('push');
        const token = await devicePushToken(this.#db, row.address!);
        if (!token)
          throw new ProviderError('fcm', 'NO_DEVICE_TOKEN', 'The device has no push token', {
            retryable: false,
          });
        return push.send({
          token,
          title: rendered.subject ?? '',
          body: rendered.body,
          data: { ...row.data, notification_id: row.id },
        });
      }
      default:
        throw new ProviderError('in_app', 'UNKNOWN_CHANNEL', `No delivery for ${row.channel}`, {
          retryable: false,
        });
    }
  }

  /** Each SMS provider in turn; the last error decides, retryable when any provider could succeed later. */
  async #sendSms(address: string, body: string): Promise<SendResult> {
    const providers = this.#channels.sms;
    if (providers.length === 0) throw notConfigured('sms');
    // Providers take E.164 only; a number that is not one will not become one on retry.
    const to = toE164(address);
    if (!to)
      throw new ProviderError(
        providers[0]!.name,
        'INVALID_ADDRESS',
        'The phone number is not a valid E.164 number',
        {
          retryable: false,
        },
      );
    const statusCallbackUrl = `${this.#deps.config.PUBLIC_BASE_URL.replace(/\/$/, '')}/api/v1/notify/callback/twilio`;
    const errors: ProviderError[] = [];
    for (const provider of providers) {
      try {
        return await provider.send({ to, body, statusCallbackUrl });
      } catch (error) {
        errors.push(asProviderError(provider.name, error));
      }
    }
    const last = errors.at(-1)!;
    const retryable = errors.some((error) => error.retryable);
    throw new ProviderError(
      last.provider,
      last.code,
      errors.map((error) => `${error.provider}: ${error.code} ${error.message}`).join('; '),
      {
        retryable,
        ...(last.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: last.retryAfterSeconds }),
      },
    );
  }

  async #sent(row: NotificationRow, result: SendResult): Promise<DeliveryOutcome> {
    return inTransaction(this.#db, async (tx) => {
      // Serialised with `report` for this provider message, so a report arriving while the id is being recorded
      // is either seen here or sees the id: never both missed.
      // An empty id (a provider answer without one) is stored as none: ids are unique per provider, and a second
      // '' would fail this update after the message went out, so the job would send it again and again.
      const providerMessageId = result.providerMessageId || null;
      if (providerMessageId) await lockProviderMessage(tx, result.provider, providerMessageId);
      await tx
        .update(notifications)
        .set({
          status: 'sent',
          provider: result.provider,
          providerMessageId,
          providerStatus: result.providerStatus,
          segments: result.segments ?? null,
          // The secrets (codes, reset links) were needed to render this send only: once it went out, nothing sends
          // it again (only failed messages are retried), so the sealed copy is dropped.
          secretsSealed: null,
          sentAt: new Date(),
          leaseUntil: null,
          nextAttemptAt: null,
          errorCode: null,
          error: null,
          updatedAt: new Date(),
        })
        .where(eq(notifications.id, row.id));
      // A fast provider may have reported before we recorded its id, in any order: apply every such report in
      // the order received (a final status is never undone, so a late "sent" cannot hide an earlier "delivered").
      if (!providerMessageId) return 'sent' as const;
      const early = await tx
        .select()
        .from(notificationDeliveryReports)
        .where(
          and(
            eq(notificationDeliveryReports.provider, result.provider),
            eq(notificationDeliveryReports.providerMessageId, providerMessageId),
            isNull(notificationDeliveryReports.notificationId),
          ),
        )
        .orderBy(asc(notificationDeliveryReports.receivedAt), asc(notificationDeliveryReports.id));
      for (const report of early) {
        await applyStatus(tx, row.id, report.providerStatus, report.errorCode);
        await tx
          .update(notificationDeliveryReports)
          .set({ notificationId: row.id })
          .where(eq(notificationDeliveryReports.id, report.id));
      }
      return 'sent' as const;
    });
  }

  async #failed(row: NotificationRow, error: unknown): Promise<DeliveryOutcome> {
    const failure = asProviderError('in_app', error);
    const now = new Date();
    const exhausted = row.attempts >= this.settings.NOTIFY_MAX_ATTEMPTS;
    return inTransaction(this.#db, async (tx) => {
      // The provider no longer knows the token: identity forgets it, so the device is not pushed to again.
      if (failure.addressGone && row.channel === 'push' && row.address)
        await forgetPushToken(tx, row.address, now);
      const common = {
        leaseUntil: null,
        errorCode: failure.code,
        error: failureReason(failure),
        updatedAt: now,
      };
      if (failure.retryable && !exhausted) {
        const waitMs = Math.max(
          backoffMs(row.attempts, this.settings.NOTIFY_RETRY_BASE_SECONDS),
          (failure.retryAfterSeconds ?? 0) * 1000,
        );
        const nextAttemptAt = new Date(now.getTime() + waitMs);
        await tx
          .update(notifications)
          .set({ ...common, status: 'queued', nextAttemptAt })
          .where(eq(notifications.id, row.id));
        await this.#deps.jobs.enqueue(tx, DELIVER_JOB, { id: row.id }, { startAfter: nextAttemptAt });
        return 'retry' as const;
      }
      const status = failure.retryable ? 'dead' : 'failed';
      await tx
        .update(notifications)
        .set({ ...common, status, failedAt: now, nextAttemptAt: null })
        .where(eq(notifications.id, row.id));
      return status;
    });
  }

  /**
   * Records a provider delivery report once per provider event (callbacks come at least once, in any order) and
   * moves the message forward: sent → delivered | failed; a final status is never undone.
   */
  async report(input: {
    provider: ProviderName;
    eventKey: string;
    providerMessageId: string;
    providerStatus: string;
    errorCode: string | null;
    payload: Record<string, unknown>;
  }): Promise<'recorded' | 'duplicate'> {
    return inTransaction(this.#db, async (tx) => {
      await lockProviderMessage(tx, input.provider, input.providerMessageId);
      const [message] = await tx
        .select({ id: notifications.id })
        .from(notifications)
        .where(
          and(
            eq(notifications.provider, input.provider),
            eq(notifications.providerMessageId, input.providerMessageId),
          ),
        )
        .limit(1);
      const [inserted] = await tx
        .insert(notificationDeliveryReports)
        .values({
          id: uuidv7(),
          provider: input.provider,
          eventKey: input.eventKey,
          providerMessageId: input.providerMessageId,
          providerStatus: input.providerStatus,
          notificationId: message?.id ?? null,
          errorCode: input.errorCode,
          payload: input.payload,
        })
        .onConflictDoNothing()
        .returning({ id: notificationDeliveryReports.id });
      if (!inserted) return 'duplicate' as const;
      if (message) await applyStatus(tx, message.id, input.providerStatus, input.errorCode);
      return 'recorded' as const;
    });
  }

  /** Messages stuck (a lost job, a worker that died holding a lease) get a new delivery job. */
  async sweep(): Promise<number> {
    const now = new Date();
    return inTransaction(this.#db, async (tx) => {
      const stuck = await tx
        .select({ id: notifications.id })
        .from(notifications)
        .where(
          or(
            and(
              eq(notifications.status, 'queued'),
              lt(notifications.nextAttemptAt, new Date(now.getTime() - 120_000)),
            ),
            and(eq(notifications.status, 'sending'), lt(notifications.leaseUntil, now)),
          ),
        )
        .limit(500);
      for (const { id } of stuck) await this.#deps.jobs.enqueue(tx, DELIVER_JOB, { id });
      return stuck.length;
    });
  }
}

async function lockProviderMessage(tx: Executor, provider: string, providerMessageId: string): Promise<void> {
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`notify-report:${provider}:${providerMessageId}`}, 0))`,
  );
}

async function applyStatus(tx: Executor, id: string, providerStatus: string, errorCode: string | null) {
  // Own keys only: a report saying "constructor" is not a status.
  const status = Object.hasOwn(FINAL_STATUS, providerStatus) ? FINAL_STATUS[providerStatus] : undefined;
  const now = new Date();
  if (status === 'delivered')
    await tx
      .update(notifications)
      .set({ status: 'delivered', providerStatus, deliveredAt: now, updatedAt: now })
      .where(
        and(
          eq(notifications.id, id),
          or(eq(notifications.status, 'sent'), eq(notifications.status, 'sending')),
        ),
      );
  else if (status === 'failed')
    await tx
      .update(notifications)
      .set({
        status: 'failed',
        providerStatus,
        errorCode: errorCode ?? providerStatus,
        failedAt: now,
        updatedAt: now,
      })
      .where(
        and(
          eq(notifications.id, id),
          or(eq(notifications.status, 'sent'), eq(notifications.status, 'sending')),
        ),
      );
  else
    await tx
      .update(notifications)
      .set({ providerStatus, updatedAt: now })
      .where(and(eq(notifications.id, id), eq(notifications.status, 'sent')));
}

const CHANNEL_NAMES: Record<'sms' | 'email' | 'push', string> = { sms: 'SMS', email: 'email', push: 'push' };
const NOT_CONFIGURED = 'CHANNEL_NOT_CONFIGURED';

/** No provider behind the channel: the failure reason names the channel ("No SMS provider is configured"). */
function notConfigured(channel: 'sms' | 'email' | 'push'): ProviderError {
  return new ProviderError('in_app', NOT_CONFIGURED, `No ${CHANNEL_NAMES[channel]} provider is configured`, {
    retryable: false,
  });
}

/** The stored failure reason: the provider's name and message, or the message alone when no provider was asked. */
function failureReason(failure: ProviderError): string {
  const reason =
    failure.code === NOT_CONFIGURED ? failure.message : `${failure.provider}: ${failure.message}`;
  return reason.slice(0, 1000);
}

function asProviderError(provider: ProviderName, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  return new ProviderError(provider, 'INTERNAL', error instanceof Error ? error.message : String(error), {
    retryable: true,
  });
}
