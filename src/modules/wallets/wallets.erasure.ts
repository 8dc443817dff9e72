/**
 * What a customer's wallets say about erasing them (registered with the customers module's `addErasureCheck` in
 * index.ts): a wallet that holds money, or has a movement pending (a dispute hold, a bank withdrawal waiting for the
 * bank), refuses it, since the money is the customer's and must be paid out or settled first.
 */
import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { formatMoney } from '../../platform/money.ts';
import { balanceOf, type LedgerService } from '../ledger/index.ts';
import { lockWallets } from './wallets.repository.ts';
import { wallets } from './wallets.tables.ts';

/** One reason per wallet that is not empty and settled; runs on `tx` only (the erasure's transaction). */
export async function walletErasureObligations(
  tx: Executor,
  ledger: LedgerService,
  customerId: string,
): Promise<string[]> {
  const owned = await tx
    .select({ id: wallets.id })
    .from(wallets)
    .where(and(eq(wallets.customerId, customerId), eq(wallets.ownerType, 'customer')));
  if (owned.length === 0) return [];
  // Locked like a payment locks them, so a payment in flight finishes before the balance is read (or waits for the
  // erasure, and then finds the customer closed).
  const rows = await lockWallets(
    tx,
    owned.map((wallet) => wallet.id),
  );
  const accounts = new Map(
    (
      await ledger.accounts(
        rows.map((row) => row.id),
        tx,
      )
    ).map((a) => [a.id, a]),
  );
  const reasons: string[] = [];
  for (const row of rows) {
    const account = accounts.get(row.id);
    if (!account) continue;
    const { balance } = balanceOf(account, account.debitsPosted, account.creditsPosted);
    if (balance !== 0n)
      reasons.push(`wallet ${row.walletNumber} holds a balance of ${formatMoney(balance, row.currency)}`);
    if (account.debitsPending !== 0n || account.creditsPending !== 0n)
      reasons.push(`wallet ${row.walletNumber} has pending holds or movements`);
  }
  return reasons;
}
