/**
 * Automatic collection: the daily run on the due date and the retry days (partial when the wallet is short, once per
 * loan and date), every inbound credit to the wallet until the instalments due are paid (once per event, even
 * redelivered), the customer told, and the ledger clean throughout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  insertLoanProduct,
  type LoanCustomer,
  loanCustomer,
  type TestProduct,
} from '../../../test/helpers/loans.ts';
import {
  activeLoan,
  instalmentsOf,
  loanBalances,
  repaymentsOf,
  today,
} from '../../../test/helpers/loans-repayments.ts';
import { balanceOf, deposit } from '../../../test/helpers/money.ts';
import { rawRows } from '../../platform/db.ts';
import { verifyLedger } from '../ledger/index.ts';
import { addDays } from './loans.calendar.ts';

describe('automatic collection', () => {
  let t: TestContext;
  let product: TestProduct;
  let phone = 254733200000;

  before(async () => {
    // Messages queue their delivery jobs.
    t = await startTestApp({}, { startJobs: true });
    product = await insertLoanProduct(t);
  });
  after(async () => t.close());

  async function customer(balance: number): Promise<LoanCustomer> {
    phone += 1;
    return loanCustomer(t, 'Borrower', `+${phone}`, { balance });
  }

  async function drainEvents() {
    while ((await t.application.system.events.dispatchBatch()) > 0) {}
  }

  async function assertLedgerClean() {
    const verification = await verifyLedger(t.deps.database.db);
    assert.equal(verification.ok, true, JSON.stringify(verification));
  }

  async function messagesFor(customerId: string): Promise<number> {
    const [row] = await rawRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from notifications
          where recipient_id = ${customerId} and dedupe_key like 'loan-collection:%'`,
    );
    return row!.n;
  }

  test('on the due date it takes what the wallet holds, once per loan and date, and tells the customer', async () => {
    const amy = await customer(50_000);
    const loan = await activeLoan(t, amy, product, [
      { dueIn: 0, principal: 100_000n, interest: 2_000n },
      { dueIn: 30, principal: 100_000n, interest: 1_000n },
    ]);
    const run = await repaymentsOf(t).auto.runDaily(today());
    assert.ok(run.collected >= 1);
    const [first, second] = await instalmentsOf(t, loan.id);
    assert.equal(first!.status, 'partially_paid');
    assert.equal(first!.interestPaid + first!.principalPaid, 50_000n);
    assert.equal(second!.principalPaid + second!.interestPaid, 0n);
    assert.equal((await balanceOf(t, amy.wallet.id)).balance, 0);
    assert.equal(await messagesFor(amy.id), 2, 'an SMS and an in-app message');

    // The same day again: nothing more (and nothing from an empty wallet either).
    await deposit(t, amy.wallet.id, 10_000);
    const rerun = await repaymentsOf(t).auto.runDaily(today());
    assert.equal(rerun.amount_minor, 0n);
    assert.equal((await balanceOf(t, amy.wallet.id)).balance, 10_000);
    await assertLedgerClean();
  });

  test('every inbound credit collects until the instalments due are paid; a redelivered event collects once', async () => {
    const ben = await customer(0);
    const loan = await activeLoan(t, ben, product, [
      { dueIn: -1, principal: 100_000n, interest: 2_000n },
      { dueIn: 29, principal: 100_000n, interest: 1_000n },
    ]);
    await drainEvents();
    await deposit(t, ben.wallet.id, 30_000);
    await drainEvents();
    let rows = await instalmentsOf(t, loan.id);
    assert.equal(rows[0]!.status, 'partially_paid');
    assert.equal((await balanceOf(t, ben.wallet.id)).balance, 0);

    await deposit(t, ben.wallet.id, 100_000);
    await drainEvents();
    rows = await instalmentsOf(t, loan.id);
    assert.equal(rows[0]!.status, 'paid');
    assert.equal(rows[1]!.status, 'pending', 'an instalment not yet due is not collected');
    assert.equal((await balanceOf(t, ben.wallet.id)).balance, 28_000);
    assert.equal((await loanBalances(t, loan.id)).principal, 100_000n);

    // The consumer sees every event again: no second collection (the effects are keyed by the event id).
    await t.application.system.events.replay('loans', 'earliest');
    await drainEvents();
    assert.equal((await balanceOf(t, ben.wallet.id)).balance, 28_000);
    const [collections] = await rawRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from loan_transactions where loan_id = ${loan.id} and type = 'auto_collection'`,
    );
    assert.equal(collections!.n, 2);
    await assertLedgerClean();
  });

  test('the retry days after the due date collect again; other days do not', async () => {
    const auto = repaymentsOf(t).auto;
    assert.deepEqual(auto.retryDays, [1, 2, 3, 7]);
    const cleo = await customer(0);
    const loan = await activeLoan(t, cleo, product, [
      { dueIn: 0, principal: 100_000n, interest: 2_000n },
      { dueIn: 30, principal: 100_000n, interest: 1_000n },
    ]);
    const due = today();
    assert.equal((await auto.runDaily(due)).amount_minor, 0n, 'an empty wallet gives nothing');
    // Money arrives without an event being handled (the consumer is behind): the next retry day takes it.
    await deposit(t, cleo.wallet.id, 40_000);
    await auto.runDaily(addDays(due, 4));
    const untouched = (await instalmentsOf(t, loan.id))[0]!;
    assert.equal(untouched.principalPaid + untouched.interestPaid, 0n, 'day 4 is not a retry day');
    await auto.runDaily(addDays(due, 3));
    const rows = await instalmentsOf(t, loan.id);
    assert.equal(rows[0]!.status, 'partially_paid');
    assert.equal(rows[0]!.interestPaid + rows[0]!.principalPaid, 40_000n);
    assert.equal((await balanceOf(t, cleo.wallet.id)).balance, 0);
    await assertLedgerClean();
  });
});
