/**
 * Domain events turned into templated notifications. Each handler runs inside the dispatcher's transaction for its
 * outbox row and queues with the event id as the dedupe key, so an event queues its messages exactly once even when
 * the dispatcher dies mid-batch and the batch runs again. Secrets (codes, reset links) are opened here from the
 * event's envelope and sealed again to the notification.
 */
import { eq } from 'drizzle-orm';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { formatMoney } from '../../platform/money.ts';
import type { OutboxEventRow } from '../../platform/outbox.ts';
import { billerNames } from '../bills/index.ts';
import { customers } from '../customers/index.ts';
import { users } from '../identity/index.ts';
import { merchants } from '../merchants/index.ts';
import type { NotificationsService, NotifyRequest } from './notifications.service.ts';
import type { PrincipalRef } from './preferences.ts';

export type EventHandler = (tx: Executor, event: OutboxEventRow) => Promise<void>;

type Payload = Record<string, unknown>;

const str = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

function money(amount: unknown, currency: unknown): string {
  const kind = typeof amount;
  if ((kind !== 'string' && kind !== 'number' && kind !== 'bigint') || typeof currency !== 'string')
    return '';
  return formatMoney(BigInt(amount as string | number | bigint), currency);
}

function minutesUntil(expiresAt: unknown, from: Date): string {
  const at = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  if (Number.isNaN(at)) return '5';
  return String(Math.max(1, Math.round((at - from.getTime()) / 60_000)));
}

/** Who is on the other side when it is not a person, merchant or biller: per language (en is the fallback). */
const COUNTERPARTY_LABELS: Record<string, Record<string, string>> = {
  cash_deposit: { en: 'Cash deposit', fr: "Dépôt d'espèces", sw: 'Kuweka pesa taslimu' },
  cash_withdrawal: { en: 'Cash withdrawal', fr: "Retrait d'espèces", sw: 'Kutoa pesa taslimu' },
  bank_topup: { en: 'Bank account', fr: 'Compte bancaire', sw: 'Akaunti ya benki' },
  bank_withdrawal: { en: 'Bank account', fr: 'Compte bancaire', sw: 'Akaunti ya benki' },
  fx: { en: 'Currency exchange', fr: 'Change de devises', sw: 'Kubadilisha fedha' },
};
const UNNAMED_PAYEE = { en: 'the recipient', fr: 'le bénéficiaire', sw: 'mpokeaji' };
const UNNAMED_PAYER = { en: 'a sender', fr: 'un expéditeur', sw: 'mtumaji' };

const PUSH_PURPOSES: Record<string, string> = {
  login: 'Sign-in',
  payment: 'Payment',
};

/** The customer who owns a merchant (a merchant wallet has no customer of its own), or null. */
async function merchantOwner(tx: Executor, merchantId: string | null): Promise<string | null> {
  if (!merchantId) return null;
  const [row] = await tx
    .select({ owner: merchants.ownerCustomerId })
    .from(merchants)
    .where(eq(merchants.id, merchantId))
    .limit(1);
  return row?.owner ?? null;
}

async function billerName(tx: Executor, billerId: string | null): Promise<string | null> {
  if (!billerId) return null;
  return (await billerNames(tx, [billerId])).get(billerId)?.name ?? null;
}

async function customerName(tx: Executor, id: string | null): Promise<string | null> {
  if (!id) return null;
  const [row] = await tx
    .select({ first: customers.firstName, last: customers.lastName, business: customers.businessName })
    .from(customers)
    .where(eq(customers.id, id))
    .limit(1);
  if (!row) return null;
  return row.business ?? `${row.first} ${row.last}`.trim();
}

export function notificationHandlers(
  deps: Dependencies,
  notifications: NotificationsService,
): Map<string, EventHandler> {
  const queue = (
    tx: Executor,
    event: OutboxEventRow,
    request: Omit<NotifyRequest, 'dedupeKey' | 'sourceEventId'> & { key?: string },
  ) =>
    notifications.queue(tx, {
      ...request,
      dedupeKey: `event:${event.id}:${request.key ?? request.template}:${request.recipient.type}:${request.recipient.id}`,
      sourceEventId: event.id,
    });

  const open = (sealed: unknown, context: string): string =>
    openEnvelope(deps.keys, JSON.parse(String(sealed)) as Envelope, context).toString('utf8');

  /** The other side's name (a person, merchant or biller), or a label in each language. */
  async function counterpartyName(
    tx: Executor,
    payload: Payload,
    side: 'payer' | 'payee',
  ): Promise<Record<string, string>> {
    const type = String(payload.type);
    if (COUNTERPARTY_LABELS[type]) return COUNTERPARTY_LABELS[type]!;
    const named = (name: string | null | undefined) => (name ? { en: name } : null);
    if (side === 'payer') {
      if (str(payload.merchant_id)) {
        const [row] = await tx
          .select({ name: merchants.name })
          .from(merchants)
          .where(eq(merchants.id, String(payload.merchant_id)))
          .limit(1);
        if (row) return { en: row.name };
      }
      if (type === 'bill') {
        const name = await billerName(tx, str(payload.biller_id));
        if (name) return { en: name };
      }
      return named(await customerName(tx, str(payload.destination_customer_id))) ?? UNNAMED_PAYEE;
    }
    return named(await customerName(tx, str(payload.source_customer_id))) ?? UNNAMED_PAYER;
  }

  const handlers = new Map<string, EventHandler>();

  handlers.set('otp.requested', async (tx, event) => {
    const p = event.payload;
    const recipient: PrincipalRef = str(p.user_id)
      ? { type: 'user', id: String(p.user_id) }
      : { type: 'customer', id: String(p.customer_id) };
    const channel = p.channel === 'email' ? 'email' : 'sms';
    await queue(tx, event, {
      recipient,
      template: 'otp.code',
      channels: [channel],
      variables: { minutes: minutesUntil(p.expires_at, event.occurredAt) },
      secrets: { code: open(p.code_sealed, `otp:${String(p.challenge_id)}`) },
      ...(str(p.phone) ? { addresses: { sms: String(p.phone) } } : {}),
      ...(str(p.email) ? { addresses: { email: String(p.email) } } : {}),
    });
  });

  handlers.set('password.reset_requested', async (tx, event) => {
    const p = event.payload;
    const token = open(p.token_sealed, `password-reset:${String(p.reset_id)}`);
    const [user] = await tx
      .select({ name: users.fullName })
      .from(users)
      .where(eq(users.id, String(p.user_id)))
      .limit(1);
    const url = deps.config.PASSWORD_RESET_URL.replace('{token}', encodeURIComponent(token));
    await queue(tx, event, {
      recipient: { type: 'user', id: String(p.user_id) },
      template: 'password.reset',
      channels: ['email'],
      variables: { name: user?.name ?? '', minutes: minutesUntil(p.expires_at, event.occurredAt) },
      secrets: { reset_url: url },
      ...(str(p.email) ? { addresses: { email: String(p.email) } } : {}),
    });
  });

  handlers.set('push.challenge', async (tx, event) => {
    const p = event.payload;
    await queue(tx, event, {
      recipient: { type: p.principal_type === 'user' ? 'user' : 'customer', id: String(p.principal_id) },
      template: 'auth.push_approval',
      channels: ['push'],
      variables: { action: PUSH_PURPOSES[String(p.purpose)] ?? String(p.purpose ?? '') },
      data: {
        kind: 'push_challenge',
        challenge_id: String(p.challenge_id),
        nonce: String(p.nonce ?? ''),
        purpose: String(p.purpose ?? ''),
        expires_at: String(p.expires_at ?? ''),
      },
    });
  });

  handlers.set('auth.new_device_login', async (tx, event) => {
    const p = event.payload;
    const recipient: PrincipalRef = {
      type: p.principal_type === 'user' ? 'user' : 'customer',
      id: String(p.principal_id),
    };
    const name =
      recipient.type === 'customer'
        ? await customerName(tx, recipient.id)
        : ((
            await tx.select({ name: users.fullName }).from(users).where(eq(users.id, recipient.id)).limit(1)
          )[0]?.name ?? null);
    await queue(tx, event, {
      recipient,
      template: 'auth.new_device',
      variables: {
        name: name ?? '',
        device: String(p.device ?? 'an unknown device').slice(0, 60),
        time: `${String(p.at ?? event.occurredAt.toISOString())
          .slice(0, 16)
          .replace('T', ' ')} UTC`,
      },
      data: { kind: 'security' },
    });
  });

  handlers.set('transaction.completed', async (tx, event) => {
    const p = event.payload;
    const type = String(p.type);
    if (type === 'reversal' || type === 'refund') return; // told by the reversal / dispute messages
    const payer = str(p.source_customer_id);
    const payee = str(p.destination_customer_id);
    const reference = String(p.reference ?? '');
    const data = { kind: 'transaction', transaction_id: String(p.transaction_id), reference };
    if (payer && type === 'bill') {
      // A bill is paid to the biller, for an account or meter: not "sent to the recipient".
      await queue(tx, event, {
        recipient: { type: 'customer', id: payer },
        template: 'bill.paid',
        variables: {
          amount: money(p.amount, p.currency),
          fee: money(BigInt(String(p.fee ?? 0)) + BigInt(String(p.tax ?? 0)), p.currency),
          biller: (await billerName(tx, str(p.biller_id))) ?? 'the biller',
          account: str(p.bill_reference) ?? '-',
          reference,
        },
        data,
      });
      return;
    }
    if (payer)
      await queue(tx, event, {
        recipient: { type: 'customer', id: payer },
        template: 'transfer.sent',
        variables: {
          amount: money(p.amount, p.currency),
          fee: money(BigInt(String(p.fee ?? 0)) + BigInt(String(p.tax ?? 0)), p.currency),
          reference,
        },
        localized: { counterparty: await counterpartyName(tx, p, 'payer') },
        data,
      });
    if (payee && payee !== payer)
      await queue(tx, event, {
        recipient: { type: 'customer', id: payee },
        template: 'transfer.received',
        variables: {
          amount: money(p.amount, p.currency),
          reference,
        },
        localized: { counterparty: await counterpartyName(tx, p, 'payee') },
        data,
      });
  });

  handlers.set('transaction.reversed', async (tx, event) => {
    const p = event.payload;
    const variables = { amount: money(p.amount, p.currency), reference: String(p.reference ?? '') };
    const data = { kind: 'transaction', transaction_id: String(p.transaction_id) };
    // The payer gets the money back; the recipient (a person, or a merchant's owner) loses it and is told so.
    const payer = str(p.source_customer_id);
    const recipient = str(p.destination_customer_id) ?? (await merchantOwner(tx, str(p.merchant_id)));
    if (payer)
      await queue(tx, event, {
        recipient: { type: 'customer', id: payer },
        template: 'transaction.reversed',
        variables,
        data,
      });
    if (recipient && recipient !== payer)
      await queue(tx, event, {
        recipient: { type: 'customer', id: recipient },
        template: 'transaction.reversed_debit',
        variables,
        data,
      });
  });

  handlers.set('dispute.opened', async (tx, event) => {
    const p = event.payload;
    const variables = { amount: money(p.amount, p.currency), reference: String(p.reference ?? '') };
    const data = { kind: 'dispute', dispute_id: String(p.dispute_id) };
    if (str(p.payer_customer_id))
      await queue(tx, event, {
        recipient: { type: 'customer', id: String(p.payer_customer_id) },
        template: 'dispute.opened',
        variables,
        data,
      });
    if (str(p.recipient_customer_id))
      await queue(tx, event, {
        recipient: { type: 'customer', id: String(p.recipient_customer_id) },
        template: 'dispute.opened_recipient',
        variables,
        data,
      });
  });

  handlers.set('dispute.investigating', async (tx, event) => {
    const p = event.payload;
    if (!str(p.payer_customer_id)) return;
    await queue(tx, event, {
      recipient: { type: 'customer', id: String(p.payer_customer_id) },
      template: 'dispute.investigating',
      variables: { reference: String(p.reference ?? '') },
      data: { kind: 'dispute', dispute_id: String(p.dispute_id) },
    });
  });

  handlers.set('dispute.resolved', async (tx, event) => {
    const p = event.payload;
    const refunded = p.status === 'refunded';
    const reference = String(p.reference ?? '');
    const data = { kind: 'dispute', dispute_id: String(p.dispute_id) };
    const payer = str(p.payer_customer_id);
    if (payer)
      await queue(tx, event, {
        recipient: { type: 'customer', id: payer },
        template: refunded ? 'dispute.refunded' : 'dispute.rejected',
        variables: refunded
          ? { amount: money(p.refunded_amount ?? p.amount, p.currency), reference }
          : { reference },
        data,
      });
    // The recipient was told money went on hold: a refund takes it (and any rest) from them, a rejection frees it.
    const recipient = str(p.recipient_customer_id) ?? (await merchantOwner(tx, str(p.merchant_id)));
    if (!recipient || recipient === payer) return;
    const released = BigInt(String(p.released_amount ?? 0));
    if (refunded)
      await queue(tx, event, {
        recipient: { type: 'customer', id: recipient },
        template: 'dispute.refunded_recipient',
        variables: { amount: money(p.refunded_amount ?? p.amount, p.currency), reference },
        data,
      });
    else if (released > 0n)
      await queue(tx, event, {
        recipient: { type: 'customer', id: recipient },
        template: 'dispute.released_recipient',
        variables: { amount: money(released, p.currency), reference },
        data,
      });
  });

  handlers.set('kyc.decided', async (tx, event) => {
    const p = event.payload;
    const customerId = String(p.customer_id);
    const name = (await customerName(tx, customerId)) ?? '';
    const approved = p.decision === 'approved';
    await queue(tx, event, {
      recipient: { type: 'customer', id: customerId },
      template: approved ? 'kyc.approved' : 'kyc.rejected',
      variables: approved
        ? { name, tier: String(p.tier ?? '') }
        : { name, reason: String(p.reason ?? 'the documents could not be verified').slice(0, 80) },
      data: { kind: 'kyc', application_id: String(p.application_id ?? '') },
    });
  });

  handlers.set('support.reply', async (tx, event) => {
    const p = event.payload;
    const subject = String(p.subject ?? '');
    await queue(tx, event, {
      recipient: { type: 'customer', id: String(p.customer_id) },
      template: 'support.reply',
      // The reply itself stays in the conversation: a lock screen shows only that there is one.
      variables: { subject: subject.length > 60 ? `${subject.slice(0, 59)}…` : subject },
      data: { kind: 'support', conversation_id: String(p.conversation_id) },
    });
  });

  return handlers;
}
