/**
 * Domain events turned into templated notifications: the `notifications` consumer of the event bus (ADR 0025). Each
 * handler runs inside the consumer's dispatch transaction and queues with the event id as the dedupe key, so an event
 * queues its messages once even when the batch runs again after a crash (the bus delivers at least once). Payloads
 * are typed by their topics; what an event does not carry (a counterparty's name, a merchant's owner) is read
 * through the owning module's exported functions. Secrets (codes, reset links) are opened here from the event's
 * envelope and sealed again to the notification.
 */
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { type DomainEvent, on, type Subscription, type Topic } from '../../platform/events.ts';
import { formatMoney } from '../../platform/money.ts';
import { otpRequested } from '../../platform/otp.ts';
import { billerNames } from '../bills/index.ts';
import { customerDisplayName } from '../customers/index.ts';
import {
  disputeInvestigating,
  disputeOpened,
  disputeResolved,
  transactionReversed,
} from '../disputes/index.ts';
import { newDeviceLogin, passwordResetRequested, pushChallenge, userFullName } from '../identity/index.ts';
import { kycDecided } from '../kyc/index.ts';
import { merchantParty } from '../merchants/index.ts';
import { supportReply } from '../support/index.ts';
import { transactionCompleted } from '../transactions/index.ts';
import type { NotificationsService, NotifyRequest } from './notifications.service.ts';
import type { PrincipalRef } from './preferences.ts';

/** The consumer name: its queue of deliveries, its dead letters. */
export const NOTIFICATIONS_CONSUMER = 'notifications';

function money(amount: string | bigint, currency: string): string {
  return formatMoney(BigInt(amount), currency);
}

function minutesUntil(expiresAt: string, from: Date): string {
  const at = Date.parse(expiresAt);
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
  // Agent network: the customer paid cash in or took cash out at an agent's store.
  cash_in: { en: 'Agent cash deposit', fr: 'Dépôt chez un agent', sw: 'Kuweka pesa kwa wakala' },
  cash_out: { en: 'Agent cash withdrawal', fr: 'Retrait chez un agent', sw: 'Kutoa pesa kwa wakala' },
};
const UNNAMED_PAYEE = { en: 'the recipient', fr: 'le bénéficiaire', sw: 'mpokeaji' };
const UNNAMED_PAYER = { en: 'a sender', fr: 'un expéditeur', sw: 'mtumaji' };

const PUSH_PURPOSES: Record<string, string> = {
  login: 'Sign-in',
  payment: 'Payment',
};

async function billerName(tx: Executor, billerId: string | null): Promise<string | null> {
  if (!billerId) return null;
  return (await billerNames(tx, [billerId])).get(billerId)?.name ?? null;
}

async function customerName(tx: Executor, id: string | null): Promise<string | null> {
  return id ? customerDisplayName(tx, id) : null;
}

/** The customer who owns a merchant (a merchant wallet has no customer of its own), or null. */
async function merchantOwner(tx: Executor, merchantId: string | null): Promise<string | null> {
  return merchantId ? ((await merchantParty(tx, merchantId))?.ownerCustomerId ?? null) : null;
}

/** The other side's name (a person, merchant or biller) of a completed payment, or a label in each language. */
async function counterpartyName(
  tx: Executor,
  payload: DomainEvent<typeof transactionCompleted>['payload'],
  side: 'payer' | 'payee',
): Promise<Record<string, string>> {
  const labelled = COUNTERPARTY_LABELS[payload.type];
  if (labelled) return labelled;
  const named = (name: string | null | undefined) => (name ? { en: name } : null);
  if (side === 'payer') {
    if (payload.merchant_id) {
      const merchant = await merchantParty(tx, payload.merchant_id);
      if (merchant) return { en: merchant.name };
    }
    if (payload.type === 'bill') {
      const name = await billerName(tx, payload.biller_id);
      if (name) return { en: name };
    }
    return named(await customerName(tx, payload.destination_customer_id)) ?? UNNAMED_PAYEE;
  }
  return named(await customerName(tx, payload.source_customer_id)) ?? UNNAMED_PAYER;
}

/**
 * The topics this consumer takes and what it does with each. The handlers are the one list of its topics:
 * docs/events.md reads them from the composed system's event bus.
 */
export function notificationSubscriptions(
  deps: Dependencies,
  notifications: NotificationsService,
  /** PASSWORD_RESET_URL: the link in reset emails, `{token}` replaced. */
  passwordResetUrl: string,
): Subscription[] {
  const queue = (
    tx: Executor,
    event: DomainEvent<Topic>,
    request: Omit<NotifyRequest, 'dedupeKey' | 'sourceEventId'> & { key?: string },
  ) =>
    notifications.queue(tx, {
      ...request,
      dedupeKey: `event:${event.id}:${request.key ?? request.template}:${request.recipient.type}:${request.recipient.id}`,
      sourceEventId: event.id,
    });

  const open = (sealed: string, context: string): string =>
    openEnvelope(deps.keys, JSON.parse(sealed) as Envelope, context).toString('utf8');

  return [
    on(otpRequested, async (tx, event) => {
      const p = event.payload;
      const recipient: PrincipalRef = p.user_id
        ? { type: 'user', id: p.user_id }
        : { type: 'customer', id: String(p.customer_id) };
      await queue(tx, event, {
        recipient,
        template: 'otp.code',
        channels: [p.channel],
        variables: { minutes: minutesUntil(p.expires_at, event.occurredAt) },
        secrets: { code: open(p.code_sealed, `otp:${p.challenge_id}`) },
        ...(p.phone ? { addresses: { sms: p.phone } } : {}),
        ...(p.email ? { addresses: { email: p.email } } : {}),
        ...(p.language ? { language: p.language } : {}),
      });
    }),

    on(passwordResetRequested, async (tx, event) => {
      const p = event.payload;
      const token = open(p.token_sealed, `password-reset:${p.reset_id}`);
      const url = passwordResetUrl.replace('{token}', encodeURIComponent(token));
      await queue(tx, event, {
        recipient: { type: 'user', id: p.user_id },
        template: 'password.reset',
        channels: ['email'],
        variables: {
          name: p.name ?? (await userFullName(tx, p.user_id)) ?? '',
          minutes: minutesUntil(p.expires_at, event.occurredAt),
        },
        secrets: { reset_url: url },
        ...(p.email ? { addresses: { email: p.email } } : {}),
      });
    }),

    on(pushChallenge, async (tx, event) => {
      const p = event.payload;
      await queue(tx, event, {
        recipient: { type: p.principal_type, id: p.principal_id },
        template: 'auth.push_approval',
        channels: ['push'],
        variables: { action: PUSH_PURPOSES[p.purpose] ?? p.purpose },
        data: {
          kind: 'push_challenge',
          challenge_id: p.challenge_id,
          nonce: p.nonce,
          purpose: p.purpose,
          expires_at: p.expires_at,
        },
      });
    }),

    on(newDeviceLogin, async (tx, event) => {
      const p = event.payload;
      const recipient: PrincipalRef = { type: p.principal_type, id: p.principal_id };
      const name =
        recipient.type === 'customer'
          ? await customerDisplayName(tx, recipient.id)
          : await userFullName(tx, recipient.id);
      await queue(tx, event, {
        recipient,
        template: 'auth.new_device',
        variables: {
          name: name ?? '',
          device: p.device.slice(0, 60),
          time: `${p.at.slice(0, 16).replace('T', ' ')} UTC`,
        },
        data: { kind: 'security' },
      });
    }),

    on(transactionCompleted, async (tx, event) => {
      const p = event.payload;
      if (p.type === 'reversal' || p.type === 'refund') return; // told by the reversal / dispute messages
      const payer = p.source_customer_id;
      const payee = p.destination_customer_id;
      const data = { kind: 'transaction', transaction_id: p.transaction_id, reference: p.reference };
      const fee = money(BigInt(p.fee) + BigInt(p.tax), p.currency);
      if (payer && p.type === 'bill') {
        // A bill is paid to the biller, for an account or meter: not "sent to the recipient".
        await queue(tx, event, {
          recipient: { type: 'customer', id: payer },
          template: 'bill.paid',
          variables: {
            amount: money(p.amount, p.currency),
            fee,
            biller: (await billerName(tx, p.biller_id)) ?? 'the biller',
            account: p.bill_reference || '-',
            reference: p.reference,
          },
          data,
        });
        return;
      }
      if (payer)
        await queue(tx, event, {
          recipient: { type: 'customer', id: payer },
          template: 'transfer.sent',
          variables: { amount: money(p.amount, p.currency), fee, reference: p.reference },
          localized: { counterparty: await counterpartyName(tx, p, 'payer') },
          data,
        });
      if (payee && payee !== payer)
        await queue(tx, event, {
          recipient: { type: 'customer', id: payee },
          template: 'transfer.received',
          variables: { amount: money(p.amount, p.currency), reference: p.reference },
          localized: { counterparty: await counterpartyName(tx, p, 'payee') },
          data,
        });
    }),

    on(transactionReversed, async (tx, event) => {
      const p = event.payload;
      const variables = { amount: money(p.amount, p.currency), reference: p.reference };
      const data = { kind: 'transaction', transaction_id: p.transaction_id };
      // The payer gets the money back; the recipient (a person, or a merchant's owner) loses it and is told so.
      const payer = p.source_customer_id;
      const recipient = p.destination_customer_id ?? (await merchantOwner(tx, p.merchant_id));
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
    }),

    on(disputeOpened, async (tx, event) => {
      const p = event.payload;
      const variables = { amount: money(p.amount, p.currency), reference: p.reference };
      const data = { kind: 'dispute', dispute_id: p.dispute_id };
      if (p.payer_customer_id)
        await queue(tx, event, {
          recipient: { type: 'customer', id: p.payer_customer_id },
          template: 'dispute.opened',
          variables,
          data,
        });
      if (p.recipient_customer_id)
        await queue(tx, event, {
          recipient: { type: 'customer', id: p.recipient_customer_id },
          template: 'dispute.opened_recipient',
          variables,
          data,
        });
    }),

    on(disputeInvestigating, async (tx, event) => {
      const p = event.payload;
      if (!p.payer_customer_id) return;
      await queue(tx, event, {
        recipient: { type: 'customer', id: p.payer_customer_id },
        template: 'dispute.investigating',
        variables: { reference: p.reference },
        data: { kind: 'dispute', dispute_id: p.dispute_id },
      });
    }),

    on(disputeResolved, async (tx, event) => {
      const p = event.payload;
      const refunded = p.status === 'refunded';
      const reference = p.reference;
      const data = { kind: 'dispute', dispute_id: p.dispute_id };
      const payer = p.payer_customer_id;
      if (payer)
        await queue(tx, event, {
          recipient: { type: 'customer', id: payer },
          template: refunded ? 'dispute.refunded' : 'dispute.rejected',
          variables: refunded ? { amount: money(p.refunded_amount, p.currency), reference } : { reference },
          data,
        });
      // The recipient was told money went on hold: a refund takes it (and any rest) from them, a rejection frees it.
      const recipient = p.recipient_customer_id ?? (await merchantOwner(tx, p.merchant_id));
      if (!recipient || recipient === payer) return;
      const released = BigInt(p.released_amount);
      if (refunded)
        await queue(tx, event, {
          recipient: { type: 'customer', id: recipient },
          template: 'dispute.refunded_recipient',
          variables: { amount: money(p.refunded_amount, p.currency), reference },
          data,
        });
      else if (released > 0n)
        await queue(tx, event, {
          recipient: { type: 'customer', id: recipient },
          template: 'dispute.released_recipient',
          variables: { amount: money(released, p.currency), reference },
          data,
        });
    }),

    on(kycDecided, async (tx, event) => {
      const p = event.payload;
      const name = p.name ?? (await customerDisplayName(tx, p.customer_id)) ?? '';
      const approved = p.decision === 'approved';
      await queue(tx, event, {
        recipient: { type: 'customer', id: p.customer_id },
        template: approved ? 'kyc.approved' : 'kyc.rejected',
        variables: approved
          ? { name, tier: p.tier ?? '' }
          : { name, reason: (p.reason ?? 'the documents could not be verified').slice(0, 80) },
        data: { kind: 'kyc', application_id: p.application_id },
      });
    }),

    on(supportReply, async (tx, event) => {
      const p = event.payload;
      await queue(tx, event, {
        recipient: { type: 'customer', id: p.customer_id },
        template: 'support.reply',
        // The reply itself stays in the conversation: a lock screen shows only that there is one.
        variables: { subject: p.subject.length > 60 ? `${p.subject.slice(0, 59)}…` : p.subject },
        data: { kind: 'support', conversation_id: p.conversation_id },
      });
    }),
  ];
}
