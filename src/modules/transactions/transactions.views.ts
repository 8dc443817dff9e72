/** How a transaction record looks on the wire. */
import { formatMoney } from '../../platform/money.ts';
import type { transactions } from './transactions.tables.ts';

type Row = typeof transactions.$inferSelect;

export function transactionView(row: Row) {
  const total = row.amount + row.fee + row.tax;
  return {
    id: row.id,
    reference: row.reference,
    type: row.type,
    status: row.status,
    channel: row.channel,
    amount: row.amount,
    currency: row.currency,
    fee: row.fee,
    tax: row.tax,
    total,
    amount_display: formatMoney(row.amount, row.currency),
    total_display: formatMoney(total, row.currency),
    // Only conversions have a destination amount; absent otherwise (a bigint cannot share a schema with null).
    ...(row.destinationAmount === null
      ? {}
      : { destination_amount: row.destinationAmount, destination_currency: row.destinationCurrency ?? '' }),
    customer_id: row.customerId,
    source_wallet_id: row.sourceWalletId,
    destination_wallet_id: row.destinationWalletId,
    counterparty_customer_id: row.counterpartyCustomerId,
    merchant_id: row.merchantId,
    biller_id: row.billerId,
    narration: row.narration,
    related_transaction_id: row.relatedTransactionId,
    failure_code: row.failureCode,
    failure_reason: row.failureReason,
    initiated_by: { type: row.initiatedByType, id: row.initiatedById },
    history: row.history,
    created_at: row.createdAt.toISOString(),
    completed_at: row.completedAt?.toISOString() ?? null,
  };
}

export type TransactionView = ReturnType<typeof transactionView>;

/**
 * What a customer sees of a transaction: the payer everything; the payee what they received — not the payer's fee,
 * duty, wallet or customer id.
 */
export function transactionViewFor(
  row: Row,
  viewer: { type: 'user' | 'customer'; id: string },
): TransactionView {
  const view = transactionView(row);
  if (viewer.type !== 'customer' || row.customerId === viewer.id) return view;
  return {
    ...view,
    fee: 0n,
    tax: 0n,
    total: row.amount,
    total_display: view.amount_display,
    customer_id: null,
    source_wallet_id: null,
    initiated_by: { type: row.initiatedByType, id: null },
  };
}
