/**
 * Payments held for compliance review (the payment screen answered `review`): the engine posted every leg as a
 * pending ledger transfer and recorded the transaction `held`. Staff release it (the pending transfers post, the
 * record completes, `transaction.completed` goes out as for any payment) or reject it (the pending transfers are
 * voided, the record fails, `transaction.rejected` goes out). Each runs in one transaction under the record's row
 * lock, so a release and a rejection racing each other end with exactly one of them.
 */
import { eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { batchTransfers, LEDGER_STATES, LedgerError, type LedgerService } from '../ledger/index.ts';
import { transactionErrors } from './transactions.errors.ts';
import { transactionCompleted, transactionRejected } from './transactions.events.ts';
import { completedEventPayload, type Step } from './transactions.plan.ts';
import { transactions } from './transactions.tables.ts';
import { type TransactionView, transactionView } from './transactions.views.ts';

export class HeldPayments {
  readonly #deps: Dependencies;
  readonly #ledger: LedgerService;

  constructor(deps: Dependencies, ledger: LedgerService) {
    this.#deps = deps;
    this.#ledger = ledger;
  }

  release(transactionId: string, context: RequestContext): Promise<TransactionView> {
    return this.#resolve(transactionId, context, { void: false, reason: null });
  }

  reject(transactionId: string, reason: string, context: RequestContext): Promise<TransactionView> {
    return this.#resolve(transactionId, context, { void: true, reason });
  }

  async #resolve(
    transactionId: string,
    context: RequestContext,
    outcome: { void: boolean; reason: string | null },
  ): Promise<TransactionView> {
    return inTransaction(this.#deps.database.db, async (tx) => {
      const [record] = await tx
        .select()
        .from(transactions)
        .where(eq(transactions.id, transactionId))
        .for('update');
      if (!record) throw commonErrors.notFound('transaction');
      if (record.status !== 'held' || !record.ledgerBatchId) throw transactionErrors.notHeld();
      const pending = await batchTransfers(tx, record.ledgerBatchId, { kind: 'pending' });
      try {
        await this.#ledger.resolve(tx, {
          key: `transaction:${record.id}:${outcome.void ? 'reject' : 'release'}`,
          code: record.type,
          reference: record.reference,
          pending: pending.map((transfer) => ({ transferId: transfer.id })),
          void: outcome.void,
        });
      } catch (error) {
        // The hold lapsed (the ledger voided it) before anyone resolved it: nothing can be released any more.
        if (error instanceof LedgerError && error.state === LEDGER_STATES.alreadyResolved)
          throw transactionErrors.notHeld();
        throw error;
      }
      const at = new Date();
      const history: Step[] = [
        ...(record.history as Step[]),
        outcome.void
          ? { state: 'failed', at: at.toISOString(), reason: 'rejected_in_review' }
          : { state: 'completed', at: at.toISOString() },
      ];
      const [updated] = await tx
        .update(transactions)
        .set(
          outcome.void
            ? {
                status: 'failed',
                failureCode: 'TRANSACTION_BLOCKED',
                // The customer reads this record: the analyst's reason stays with the AML decision.
                failureReason: 'This payment cannot be made',
                history,
                updatedAt: at,
              }
            : { status: 'completed', history, completedAt: at, updatedAt: at },
        )
        .where(eq(transactions.id, record.id))
        .returning();
      await emitEvent(
        tx,
        outcome.void ? transactionRejected : transactionCompleted,
        { type: 'transaction', id: record.id },
        completedEventPayload(updated!),
      );
      await writeAudit(tx, context, {
        action: outcome.void ? 'transaction.held_rejected' : 'transaction.held_released',
        entityType: 'transaction',
        entityId: record.id,
        before: { status: 'held' },
        after: { status: updated!.status, ...(outcome.reason ? { reason: outcome.reason } : {}) },
      });
      return transactionView({ ...updated!, history });
    });
  }
}
