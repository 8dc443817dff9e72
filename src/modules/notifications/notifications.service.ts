/**
 * Queuing notifications inside the caller's transaction (the outbox rule: a rolled-back use case sends nothing, a
 * committed one queues each message once, by its dedupe key), and staff sends and retries. Reading them (the in-app
 * inbox, staff views) is `notifications.inbox.ts`.
 */
import { and, eq, ne, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { customerStanding, primaryContact } from '../customers/index.ts';
import { pushableDevices, userContact } from '../identity/index.ts';
import { NotificationReads, type NotificationRow, notificationView } from './notifications.inbox.ts';
import {
  NOTIFICATION_CHANNELS,
  type NotificationCategory,
  type NotificationChannel,
  notifications,
} from './notifications.tables.ts';
import { afterQuietHours, type PrincipalRef, preferencesOf } from './preferences.ts';
import type { TemplatesService } from './templates.service.ts';
import { checkVariables, render } from './templates.ts';

export const DELIVER_JOB = 'notify.deliver';

export interface NotifyRequest {
  recipient: PrincipalRef;
  template: string;
  /** Default: every channel the template has. */
  channels?: NotificationChannel[];
  variables: Record<string, string>;
  /**
   * Variables whose text depends on the language each channel's template is in (a label such as "Cash deposit"):
   * name → language → text, English when that language has none.
   */
  localized?: Record<string, Record<string, string>>;
  /** Values of the template's secret variables: sealed, never stored in clear. */
  secrets?: Record<string, string>;
  /** Ids for push data and WebSocket events (strings only, never secrets). */
  data?: Record<string, string>;
  /** Send here instead of the principal's primary address (a factor's own phone or email). */
  addresses?: Partial<Record<'sms' | 'email', string>>;
  /** Language instead of the principal's preference. */
  language?: string;
  /** Unique per intended message set: the outbox event id or the caller's idempotency key. */
  dedupeKey: string;
  sourceEventId?: bigint;
  createdBy?: { type: string; id: string | null };
  /** Record a `suppressed` row for each requested channel that cannot be used (staff sends want to see why). */
  reportSuppressed?: boolean;
}

export interface Queued {
  id: string;
  channel: NotificationChannel;
  status: NotificationRow['status'];
  address: string | null;
  error_code: string | null;
}

interface Target {
  channel: NotificationChannel;
  address: string | null;
}

export class NotificationsService {
  readonly #deps: Dependencies;
  readonly #templates: TemplatesService;
  readonly #reads: NotificationReads;

  constructor(deps: Dependencies, templates: TemplatesService) {
    this.#deps = deps;
    this.#templates = templates;
    this.#reads = new NotificationReads(deps.database.db);
  }

  get templates(): TemplatesService {
    return this.#templates;
  }

  /** The in-app inbox and staff views of messages. */
  get reads(): NotificationReads {
    return this.#reads;
  }

  get database(): Executor {
    return this.#deps.database.db;
  }

  /**
   * Renders and queues inside `tx`: one row per channel and address plus its delivery job. Variables are checked
   * against every template first, so a bad request queues nothing. A repeated dedupe key queues nothing again.
   */
  async queue(tx: Executor, request: NotifyRequest): Promise<Queued[]> {
    const preferences = await preferencesOf(tx, request.recipient);
    const language = request.language ?? preferences.language;
    const templates = await this.#templates.resolve(tx, request.template, language);
    if (templates.size === 0) throw commonErrors.notFound(`Template ${request.template}`);
    const channels = request.channels ?? NOTIFICATION_CHANNELS.filter((channel) => templates.has(channel));
    const missing = channels.filter((channel) => !templates.has(channel));
    if (missing.length > 0)
      throw commonErrors.validation(`Template ${request.template} has no ${missing.join(', ')} version`, {
        errors: missing.map((channel) => ({ field: 'body.channels', message: `no ${channel} template` })),
      });
    // Checked against the channels together: the SMS of a template may leave out a variable (the title) that
    // the other channels use, and one request carries the values for all of them.
    const variablesIn = (language: string): Record<string, string> => ({
      ...request.variables,
      ...Object.fromEntries(
        Object.entries(request.localized ?? {}).map(([name, texts]) => [
          name,
          texts[language] ?? texts.en ?? '',
        ]),
      ),
    });
    checkVariables(
      channels.map((channel) => templateText(templates.get(channel)!)),
      variablesIn(language),
      request.secrets ?? {},
    );

    const queued: Queued[] = [];
    const now = new Date();
    // A closed customer is reached on no channel: not the inbox they can no longer open, nor their devices.
    const closed =
      request.recipient.type === 'customer' &&
      (await this.#customerClosed(tx, request.recipient.id, request));
    for (const channel of channels) {
      const template = templates.get(channel)!;
      const category = template.category as NotificationCategory;
      const targets = closed ? [] : await this.#targets(tx, request, channel);
      let suppression: string | null = null;
      if (closed) suppression = 'RECIPIENT_CLOSED';
      else if (targets.length === 0) suppression = 'NO_ADDRESS';
      else if (category === 'marketing' && !preferences.marketing_channels.includes(channel))
        suppression = 'OPTED_OUT';
      if (suppression && !request.reportSuppressed) continue;
      const startAt = category === 'marketing' ? afterQuietHours(preferences, now) : now;
      const text = templateText(template);
      const variables = variablesIn(template.language);
      const shown = render(text, variables, null);
      for (const target of targets.length > 0 ? targets : [{ channel, address: null }]) {
        const id = uuidv7();
        const secrets = request.secrets && Object.keys(request.secrets).length > 0 ? request.secrets : null;
        const [row] = await tx
          .insert(notifications)
          .values({
            id,
            recipientType: request.recipient.type,
            recipientId: request.recipient.id,
            channel,
            category,
            templateCode: template.code,
            templateId: template.id,
            language: template.language,
            address: target.address,
            subject: shown.subject,
            body: shown.body,
            variables,
            secretsSealed: secrets
              ? JSON.stringify(
                  sealEnvelope(this.#deps.keys, Buffer.from(JSON.stringify(secrets)), `notification:${id}`),
                )
              : null,
            data: request.data ?? {},
            status: suppression ? 'suppressed' : 'queued',
            errorCode: suppression,
            nextAttemptAt: suppression ? null : startAt,
            dedupeKey: `${request.dedupeKey}|${channel}|${target.address ?? '-'}`,
            sourceEventId: request.sourceEventId ?? null,
            createdByType: request.createdBy?.type ?? null,
            createdById: request.createdBy?.id ?? null,
          })
          .onConflictDoNothing({ target: notifications.dedupeKey })
          .returning();
        if (!row) continue;
        if (!suppression) await this.#deps.jobs.enqueue(tx, DELIVER_JOB, { id }, { startAfter: startAt });
        queued.push({
          id,
          channel,
          status: row.status,
          address: row.address,
          error_code: row.errorCode,
        });
      }
    }
    return queued;
  }

  /**
   * Whether the recipient is a closed customer (or no customer). Someone who is not a customer yet — a registration's
   * one-time code, sent with the registration id as recipient — is reached only at the address the request gives.
   */
  async #customerClosed(tx: Executor, customerId: string, request: NotifyRequest): Promise<boolean> {
    const customer = await customerStanding(tx, customerId);
    if (!customer) return !request.addresses?.sms && !request.addresses?.email;
    return customer.status === 'closed';
  }

  /** Where a channel reaches the principal: primary phone or email, each device with a push token, the inbox. */
  async #targets(tx: Executor, request: NotifyRequest, channel: NotificationChannel): Promise<Target[]> {
    const { recipient } = request;
    if (channel === 'in_app') return [{ channel, address: null }];
    if (channel === 'push') {
      const devices = await pushableDevices(tx, recipient);
      return devices.map((id) => ({ channel, address: id }));
    }
    const override = request.addresses?.[channel];
    if (override) return [{ channel, address: override }];
    if (recipient.type === 'user') {
      const user = await userContact(tx, recipient.id);
      const address = channel === 'sms' ? user?.phone : user?.email;
      return address ? [{ channel, address }] : [];
    }
    const address = await primaryContact(tx, recipient.id, channel === 'sms' ? 'phone' : 'email');
    return address === null ? [] : [{ channel, address }];
  }

  /**
   * A staff member's message to one customer or user: every channel of the template (or those asked), queued in one
   * transaction with its audit row. Channels that cannot be used come back `suppressed` with the reason. Templates
   * with secret variables (codes, reset links) are only sent by the system.
   */
  async send(
    input: {
      recipient_type: 'customer' | 'user';
      recipient_id: string;
      template: string;
      channels?: NotificationChannel[];
      variables: Record<string, string>;
      language?: string;
    },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<{ notifications: Queued[] }> {
    return inTransaction(this.#deps.database.db, async (tx) => {
      const exists =
        input.recipient_type === 'customer'
          ? await customerStanding(tx, input.recipient_id)
          : await userContact(tx, input.recipient_id);
      if (!exists) throw commonErrors.notFound(input.recipient_type === 'customer' ? 'Customer' : 'User');
      const templates = await this.#templates.resolve(tx, input.template, input.language ?? 'en');
      if ([...templates.values()].some((template) => template.secretVariables.length > 0))
        throw commonErrors.validation('This template carries secrets and is sent by the system only', {
          errors: [{ field: 'body.template', message: 'has secret variables' }],
        });
      const queued = await this.queue(tx, {
        recipient: { type: input.recipient_type, id: input.recipient_id },
        template: input.template,
        ...(input.channels ? { channels: input.channels } : {}),
        variables: input.variables,
        ...(input.language ? { language: input.language } : {}),
        dedupeKey: claim ? `send:${claim.id}` : `send:${uuidv7()}`,
        createdBy: context.actor,
        reportSuppressed: true,
        data: { kind: 'message' },
      });
      await writeAudit(tx, context, {
        action: 'notify.send',
        entityType: input.recipient_type,
        entityId: input.recipient_id,
        after: { template: input.template, notifications: queued.map((item) => item.id) },
      });
      const result = { notifications: queued };
      await claim?.commit(tx, 202, result);
      return result;
    });
  }

  /** Puts a failed or dead-lettered message back in the queue (a fixed number, a provider back up). */
  async retry(id: string, context: RequestContext) {
    return inTransaction(this.#deps.database.db, async (tx) => {
      const [row] = await tx
        .update(notifications)
        .set({
          status: 'queued',
          attempts: 0,
          nextAttemptAt: new Date(),
          errorCode: null,
          error: null,
          failedAt: null,
          leaseUntil: null,
          updatedAt: new Date(),
        })
        .where(
          and(
            eq(notifications.id, id),
            sql`${notifications.status} in ('failed', 'dead')`,
            ne(notifications.channel, 'in_app'),
          ),
        )
        .returning();
      if (!row) {
        const [current] = await tx
          .select({ status: notifications.status })
          .from(notifications)
          .where(eq(notifications.id, id))
          .limit(1);
        if (!current) throw commonErrors.notFound('Notification');
        throw commonErrors.conflict(`A ${current.status} notification cannot be retried`, {
          status: current.status,
        });
      }
      await this.#deps.jobs.enqueue(tx, DELIVER_JOB, { id });
      await writeAudit(tx, context, {
        action: 'notify.retry',
        entityType: 'notification',
        entityId: id,
        after: { status: 'queued' },
      });
      return notificationView(row);
    });
  }
}

export function templateText(row: {
  channel: NotificationChannel;
  subject: string | null;
  body: string;
  htmlBody: string | null;
  variables: string[];
  secretVariables: string[];
}) {
  return {
    channel: row.channel,
    subject: row.subject,
    body: row.body,
    htmlBody: row.htmlBody,
    variables: row.variables,
    secretVariables: row.secretVariables,
  };
}
