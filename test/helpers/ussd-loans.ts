/** Test factories the USSD loans tests share (the port's and the menu's through the gateways). */
import { sql } from 'drizzle-orm';
import { inTransaction } from '../../src/platform/db.ts';
import type { TestContext } from './app.ts';
import { type LoanCustomer, loanCustomer } from './loans.ts';
import { deposit } from './money.ts';

const DAY = 86_400_000;

/**
 * A customer the internal scorecard approves: premium tier, a wallet opened 400 days ago with KES 30,000 paid in 80,
 * 50 and 20 days ago (the journal back-dated as the scoring tests do).
 */
export async function seasonedCustomer(t: TestContext, name: string, phone: string): Promise<LoanCustomer> {
  const customer = await loanCustomer(t, name, phone, { tier: 'premium' });
  const db = t.deps.database.db;
  const now = Date.now();
  await db.execute(
    sql`update wallets set created_at = ${new Date(now - 400 * DAY)} where id = ${customer.wallet.id}`,
  );
  const daysAgo = [80, 50, 20];
  for (const _ of daysAgo) await deposit(t, customer.wallet.id, 3_000_000);
  await inTransaction(db, async (tx) => {
    const entries = (await tx.execute(
      sql`select id::text as id from ledger_entries where account_id = ${customer.wallet.id} order by id`,
    )) as unknown as { rows: { id: string }[] };
    await tx.execute(sql`alter table ledger_entries disable trigger ledger_entries_append_only`);
    for (const [index, row] of entries.rows.entries())
      await tx.execute(
        sql`update ledger_entries set created_at = ${new Date(now - (daysAgo[index] ?? 0) * DAY)} where id = ${row.id}::bigint`,
      );
    await tx.execute(sql`alter table ledger_entries enable trigger ledger_entries_append_only`);
  });
  return customer;
}
