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
 * The states a customer who did not make a movement sees it in: what happened to their money. A payer's refused or
 * unfinished attempts (and why they failed: "Insufficient balance" tells the payer's balance) are the payer's own.
 */
export const SETTLED_STATES = ['completed', 'reversed'] as const satisfies readonly Row['status'][];

/** Whether a customer made the movement (its paying customer, or its initiator): they see it in every state. */
export function madeBy(row: Row, customerId: string): boolean {
  return (
    row.customerId === customerId || (row.initiatedByType === 'customer' && row.initiatedById === customerId)
  );
}

/** Whether a customer party who did not make the movement may see it (in which state it is). */
export function settled(row: Row): boolean {
  return (SETTLED_STATES as readonly string[]).includes(row.status);
}

/**
 * What a customer sees of a transaction: the payer everything; the payee what they received — not the payer's fee,
 * duty, wallet, customer id or any failure. A reversal gives the original payer back amount, fee and duty (its
 * `total`, what was credited back), and takes from the original payee only the amount.
 */
export function transactionViewFor(
  row: Row,
  viewer: { type: 'user' | 'customer'; id: string },
): TransactionView {
  const view = transactionView(row);
  if (viewer.type !== 'customer') return view;
  const payer = row.customerId === viewer.id;
  // A reversal's fee and duty went to the party it credits (the original payer), not to the one it debits.
  const seesCharges = row.type === 'reversal' ? row.counterpartyCustomerId === viewer.id : payer;
  const amounts = seesCharges
    ? {}
    : { fee: 0n, tax: 0n, total: row.amount, total_display: view.amount_display };
  if (payer) return { ...view, ...amounts };
  return {
    ...view,
    ...amounts,
    customer_id: null,
    source_wallet_id: null,
    failure_code: null,
    failure_reason: null,
    initiated_by: { type: row.initiatedByType, id: null },
  };
}
