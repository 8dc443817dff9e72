/**
 * Payments held for AML review (the screen answered `review`): the analysts' queue, release and rejection through
 * the payment engine (`releaseHeld` posts the ledger hold, `rejectHeld` voids it), the review SLA alert, and the
 * customer's "under review" message (which names no rule, alert or case: tipping-off).
 *
 * Release and reject: the decision is checked open, the engine resolves the transaction (its own transaction, under
 * the record's lock, so racing resolutions end with one), then the decision's resolution and the audit row are
 * written. If the engine already resolved the payment (a retry after a crash between the two), the decision is
 * closed from the transaction's state.
 */
import type { RequestContext } from '../../platform/audit.ts';
import { writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError, commonErrors } from '../../platform/errors.ts';
import type { DomainEvent } from '../../platform/events.ts';
import { formatMoney } from '../../platform/money.ts';
import type { NotificationsService } from '../notifications/index.ts';
import { findTransaction, type PaymentEngine, type transactionHeld } from '../transactions/index.ts';
import {
  type DecisionRow,
  decisionOf,
  markSlaAlerted,
  openReviews,
  overdueReviews,
  resolveDecision,
} from './aml.decisions.repository.ts';
import { amlErrors } from './aml.errors.ts';
import type { AlertSink } from './aml.ports.ts';

const SLA_BATCH = 200;

export function heldView(row: DecisionRow, now: number) {
  return {
    transaction_id: row.transactionId,
    reference: row.reference,
    customer_id: row.customerId,
    type: row.type,
    channel: row.channel,
    amount: row.amountMinor.toString(),
    currency: row.currency,
    fired: row.fired.map((rule) => ({
      code: rule.code,
      version: rule.version,
      mode: rule.mode,
      action: rule.action,
      detail: rule.detail ?? {},
    })),
    aggregates_unavailable: row.aggregatesUnavailable,
    review_due_at: row.reviewDueAt?.toISOString() ?? null,
    overdue: row.reviewDueAt !== null && row.reviewDueAt.getTime() <= now,
    resolution: row.resolution,
    resolved_by: row.resolvedBy,
    resolved_at: row.resolvedAt?.toISOString() ?? null,
    decided_at: row.createdAt.toISOString(),
  };
}

export interface HeldOptions {
  db: Executor;
  engine: Pick<PaymentEngine, 'releaseHeld' | 'rejectHeld'>;
  alerts: AlertSink;
  notifications: Pick<NotificationsService, 'queue'>;
  clock?: () => number;
}

/** The "under review" message per language: no rule, alert or case is named. */
const UNDER_REVIEW: Record<
  string,
  { title: string; message: (amount: string, reference: string) => string }
> = {
  en: {
    title: 'Payment under review',
    message: (amount, reference) =>
      `Your payment of ${amount} (ref ${reference}) is being reviewed. Your funds are reserved; we will let you know when it completes.`,
  },
  fr: {
    title: 'Paiement en cours de vérification',
    message: (amount, reference) =>
      `Votre paiement de ${amount} (réf ${reference}) est en cours de vérification. Les fonds sont réservés ; nous vous informerons de son aboutissement.`,
  },
  sw: {
    title: 'Malipo yanakaguliwa',
    message: (amount, reference) =>
      `Malipo yako ya ${amount} (kumb ${reference}) yanakaguliwa. Pesa zako zimehifadhiwa; tutakujulisha yakikamilika.`,
  },
};

export class HeldPayments {
  readonly #options: HeldOptions;
  readonly #clock: () => number;

  constructor(options: HeldOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  async list(query: { limit?: number; cursor?: string }) {
    const limit = query.limit ?? 50;
    let after: { due: Date; id: string } | undefined;
    if (query.cursor) {
      const [due, id] = Buffer.from(query.cursor, 'base64url').toString('utf8').split('|');
      const at = new Date(due ?? '');
      if (!id || Number.isNaN(at.getTime()))
        throw commonErrors.validation('cursor is invalid', {
          errors: [{ field: 'querystring.cursor', message: 'is not a cursor of this list', rule: 'cursor' }],
        });
      after = { due: at, id };
    }
    const rows = await openReviews(this.#options.db, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => heldView(row, this.#clock())),
      next_cursor:
        rows.length > limit && last?.reviewDueAt
          ? Buffer.from(`${last.reviewDueAt.toISOString()}|${last.id}`).toString('base64url')
          : null,
    };
  }

  async get(transactionId: string) {
    const row = await decisionOf(this.#options.db, transactionId);
    if (row?.outcome !== 'review')
      throw amlErrors.AML_HELD_NOT_FOUND({ params: { transaction_id: transactionId } });
    return heldView(row, this.#clock());
  }

  release(transactionId: string, context: RequestContext) {
    return this.#resolve(transactionId, 'released', null, context);
  }

  reject(transactionId: string, reason: string, context: RequestContext) {
    return this.#resolve(transactionId, 'rejected', reason, context);
  }

  async #resolve(
    transactionId: string,
    resolution: 'released' | 'rejected',
    reason: string | null,
    context: RequestContext,
  ) {
    const { db, engine } = this.#options;
    const decision = await decisionOf(db, transactionId);
    if (decision?.outcome !== 'review')
      throw amlErrors.AML_HELD_NOT_FOUND({ params: { transaction_id: transactionId } });
    if (decision.resolution)
      throw amlErrors.AML_HELD_RESOLVED({ params: { resolution: decision.resolution } });
    let transaction: Awaited<ReturnType<HeldOptions['engine']['releaseHeld']>>;
    try {
      transaction =
        resolution === 'released'
          ? await engine.releaseHeld(transactionId, context)
          : await engine.rejectHeld(transactionId, reason ?? '', context);
    } catch (error) {
      // No longer held: resolved by the engine already (a retry after a crash between the engine's commit and
      // ours) or its ledger hold lapsed. The transaction's state closes the decision so it leaves the queue.
      if (error instanceof AppError && error.errorCode === 'TRANSACTION_NOT_HELD') {
        const closed = await this.#closeFromTransaction(decision, context);
        throw amlErrors.AML_HELD_RESOLVED({ params: { resolution: closed } });
      }
      throw error;
    }
    const at = new Date(this.#clock());
    const row = await inTransaction(db, async (tx) => {
      const locked = await decisionOf(tx, transactionId, true);
      await resolveDecision(tx, locked!.id, resolution, context.actor.id, at);
      await writeAudit(tx, context, {
        action: resolution === 'released' ? 'aml.held_released' : 'aml.held_rejected',
        entityType: 'aml_decision',
        entityId: locked!.id,
        before: { resolution: null },
        after: { resolution, transaction_id: transactionId, reason },
      });
      return (await decisionOf(tx, transactionId))!;
    });
    return { decision: heldView(row, this.#clock()), transaction };
  }

  /** Completed → released; failed (rejected, or the hold lapsed unresolved) → expired. */
  async #closeFromTransaction(decision: DecisionRow, context: RequestContext): Promise<string> {
    const record = await findTransaction(this.#options.db, decision.transactionId);
    const resolution = record?.status === 'completed' ? 'released' : 'expired';
    await inTransaction(this.#options.db, async (tx) => {
      await resolveDecision(tx, decision.id, resolution, context.actor.id, new Date(this.#clock()));
      await writeAudit(tx, context, {
        action: 'aml.held_closed',
        entityType: 'aml_decision',
        entityId: decision.id,
        before: { resolution: null },
        after: { resolution, transaction_status: record?.status ?? null },
      });
    });
    return resolution;
  }

  /** The 5-minute job: one `review_sla` alert per held payment past its due time, raised once. */
  async alertOverdue(): Promise<number> {
    const now = new Date(this.#clock());
    return inTransaction(this.#options.db, async (tx) => {
      const overdue = await overdueReviews(tx, now, SLA_BATCH);
      for (const row of overdue) {
        // An alert names a customer (a payment between house accounts has none: marked, nobody to alert about).
        if (row.customerId)
          await this.#options.alerts.raise(tx, {
            source: 'rule',
            pattern: 'review_sla',
            priority: 'high',
            customerId: row.customerId,
            evidence: {
              transaction_ids: [row.transactionId],
              fields: {
                review_due_at: row.reviewDueAt?.toISOString() ?? null,
                amount_minor: row.amountMinor.toString(),
                currency: row.currency,
                rules: row.fired.filter((rule) => rule.mode === 'active').map((rule) => rule.code),
              },
            },
            dedupeKey: `review_sla:${row.transactionId}`,
          });
        await markSlaAlerted(tx, row.id, now);
      }
      return overdue.length;
    });
  }

  /** `transaction.held`: tells the payer their payment is under review (once per event). */
  async notifyHeld(tx: Executor, event: DomainEvent<typeof transactionHeld>): Promise<void> {
    const payload = event.payload;
    const customerId = payload.source_customer_id ?? payload.destination_customer_id;
    if (!customerId) return;
    const amount = formatMoney(BigInt(payload.amount), payload.currency);
    await this.#options.notifications.queue(tx, {
      recipient: { type: 'customer', id: customerId },
      template: 'notification.message',
      channels: ['sms', 'push', 'in_app'],
      variables: {},
      localized: {
        title: Object.fromEntries(
          Object.entries(UNDER_REVIEW).map(([language, text]) => [language, text.title]),
        ),
        message: Object.fromEntries(
          Object.entries(UNDER_REVIEW).map(([language, text]) => [
            language,
            text.message(amount, payload.reference),
          ]),
        ),
      },
      dedupeKey: `event:${event.id}:aml.held:customer:${customerId}`,
      sourceEventId: event.id,
      data: { kind: 'payment_under_review', transaction_id: payload.transaction_id },
    });
  }
}
