/** Loan repayments over HTTP: allocation, partial and over-payments, payoff, idempotency, refusals, concurrency. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  insertApplication,
  insertLoanProduct,
  type LoanCustomer,
  loanCustomer,
  staffToken,
  type TestProduct,
} from '../../../test/helpers/loans.ts';
import {
  activeLoan,
  instalmentsOf,
  loanBalances,
  loanRow,
  repaymentsOf,
  today,
} from '../../../test/helpers/loans-repayments.ts';
import { balanceOf, TEST_PIN } from '../../../test/helpers/money.ts';
import { inTransaction, rawRows } from '../../platform/db.ts';
import { eventsOf } from '../../platform/outbox.ts';
import { verifyLedger } from '../ledger/index.ts';
import { addDays } from './loans.calendar.ts';
import { loanTransactions } from './loans.tables.ts';

describe('loan repayments', () => {
  let t: TestContext;
  let product: TestProduct;
  let officer: string;
  let phone = 254722100000;
  const nextPhone = () => {
    phone += 1;
    return `+${phone}`;
  };

  before(async () => {
    t = await startTestApp();
    product = await insertLoanProduct(t);
    officer = await staffToken(t, 'repay_officer', ['loan_officer']);
  });
  after(async () => t.close());

  async function customer(balance: number): Promise<LoanCustomer> {
    return loanCustomer(t, 'Repayer', nextPhone(), { balance });
  }

  /** Two instalments due (40 and 10 days ago) and one in 20 days: 100,000 principal + 3,000 interest each. */
  function threeInstalments(first: { penalty?: bigint; fee?: bigint } = {}) {
    return [
      { dueIn: -40, principal: 100_000n, interest: 3_000n, ...first },
      { dueIn: -10, principal: 100_000n, interest: 2_000n },
      { dueIn: 20, principal: 100_000n, interest: 1_000n },
    ];
  }

  const repay = (token: string, payload: object, key = `repay-${randomUUID()}`) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/repayment/add',
      headers: { ...bearer(token), 'idempotency-key': key },
      payload,
    });

  async function assertLedgerClean() {
    const verification = await verifyLedger(t.deps.database.db);
    assert.equal(
      verification.ok,
      true,
      JSON.stringify(verification, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
  }

  /** What the instalments still owe equals the loan's ledger accounts. */
  async function assertInstalmentsMatchLedger(loanId: string) {
    const rows = await instalmentsOf(t, loanId);
    const owed = { principal: 0n, fee: 0n, penalty: 0n, interest: 0n };
    for (const row of rows) {
      owed.principal += row.principalDue - row.principalPaid;
      owed.fee += row.feeDue - row.feePaid;
      owed.penalty += row.penaltyDue - row.penaltyPaid;
      owed.interest += row.interestAccrued > row.interestPaid ? row.interestAccrued - row.interestPaid : 0n;
      assert.ok(row.principalPaid <= row.principalDue && row.interestPaid <= row.interestDue);
    }
    const balances = await loanBalances(t, loanId);
    assert.deepEqual(
      {
        principal: balances.principal,
        fee: balances.fee,
        penalty: balances.penalty,
        interest: balances.interest,
      },
      owed,
    );
  }

  test('a partial payment is split oldest instalment first, penalty → fee → interest → principal', async () => {
    const alice = await customer(500_000);
    const loan = await activeLoan(t, alice, product, threeInstalments({ penalty: 5_000n, fee: 1_000n }));
    const response = await repay(alice.token, { loan_id: loan.id, amount_minor: 59_000, pin: TEST_PIN });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.amount_minor, 59_000);
    assert.equal(body.source, 'wallet');
    assert.deepEqual(body.allocation, {
      penalty_minor: 5_000,
      fee_minor: 1_000,
      interest_minor: 3_000,
      principal_minor: 50_000,
      prepayment_minor: 0,
    });
    const [first, second, third] = await instalmentsOf(t, loan.id);
    assert.equal(first!.status, 'partially_paid');
    assert.equal(first!.principalPaid, 50_000n);
    assert.equal(second!.principalPaid + second!.interestPaid, 0n);
    assert.equal(third!.status, 'pending');
    assert.equal((await balanceOf(t, alice.wallet.id)).balance, 441_000);
    assert.equal(body.outstanding_minor, 300_000 - 50_000 + 2_000);
    const events = await eventsOf(t.deps.database.db, 'loan', loan.id);
    const received = events.filter((event) => event.topic === 'loans.repayment_received');
    assert.equal(received.length, 1);
    assert.equal(received[0]!.payload.amount_minor, '59000');
    await assertInstalmentsMatchLedger(loan.id);
    await assertLedgerClean();

    // The rest of what is due, in a second payment: instalments 1 and 2 paid, 3 not touched.
    const rest = await repay(alice.token, { loan_id: loan.id, amount_minor: 152_000, pin: TEST_PIN });
    assert.equal(rest.statusCode, 201, rest.body);
    const after = await instalmentsOf(t, loan.id);
    assert.deepEqual(
      after.map((row) => row.status),
      ['paid', 'paid', 'pending'],
    );
    assert.equal(rest.json().loan_status, 'active');
    await assertInstalmentsMatchLedger(loan.id);
    await assertLedgerClean();
  });

  test('the product’s allocation order is followed within an instalment', async () => {
    const principalFirst = await insertLoanProduct(t, {
      allocation_order: ['principal', 'interest', 'fee', 'penalty'],
    });
    const bob = await customer(500_000);
    const loan = await activeLoan(t, bob, principalFirst, threeInstalments({ penalty: 5_000n }));
    const response = await repay(bob.token, { loan_id: loan.id, amount_minor: 101_000, pin: TEST_PIN });
    assert.equal(response.statusCode, 201, response.body);
    assert.deepEqual(response.json().allocation, {
      penalty_minor: 0,
      fee_minor: 0,
      interest_minor: 1_000,
      principal_minor: 100_000,
      prepayment_minor: 0,
    });
    const [first] = await instalmentsOf(t, loan.id);
    assert.equal(first!.principalPaid, 100_000n);
    assert.equal(first!.interestPaid, 1_000n);
    assert.equal(first!.penaltyPaid, 0n);
    await assertInstalmentsMatchLedger(loan.id);
    await assertLedgerClean();
  });

  /** One instalment due 10 days ago, two later ones (the second of them the last). */
  function dueThenTwoFuture() {
    return [
      { dueIn: -10, principal: 100_000n, interest: 2_000n },
      { dueIn: 20, principal: 100_000n, interest: 1_000n },
      { dueIn: 50, principal: 100_000n, interest: 500n },
    ];
  }

  test('an overpayment prepays principal and reduces the term (future_instalments, reduce_term)', async () => {
    const carol = await customer(500_000);
    const loan = await activeLoan(t, carol, product, dueThenTwoFuture());
    const response = await repay(carol.token, { loan_id: loan.id, amount_minor: 252_000, pin: TEST_PIN });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.amount_minor, 252_000);
    assert.equal(body.allocation.prepayment_minor, 150_000);
    assert.equal(body.allocation.principal_minor, 250_000);
    const rows = await instalmentsOf(t, loan.id);
    // 50,000 left at 1 % a month: one instalment of 50,000 + 500 instead of two.
    assert.deepEqual(
      rows.map((row) => [row.seq, row.status, row.principalDue, row.interestDue]),
      [
        [1, 'paid', 100_000n, 2_000n],
        [2, 'pending', 50_000n, 500n],
      ],
    );
    assert.equal((await balanceOf(t, carol.wallet.id)).balance, 248_000);
    await assertInstalmentsMatchLedger(loan.id);
    await assertLedgerClean();
  });

  test('an overpayment prepays principal and lowers the instalments (future_instalments, reduce_instalment)', async () => {
    const lower = await insertLoanProduct(t, { prepayment: 'reduce_instalment' });
    const dan = await customer(500_000);
    const loan = await activeLoan(t, dan, lower, dueThenTwoFuture());
    const response = await repay(dan.token, { loan_id: loan.id, amount_minor: 252_000, pin: TEST_PIN });
    assert.equal(response.statusCode, 201, response.body);
    const rows = await instalmentsOf(t, loan.id);
    assert.equal(rows.length, 3);
    const future = rows.slice(1);
    assert.equal(
      future.reduce((sum, row) => sum + row.principalDue, 0n),
      50_000n,
    );
    // Two level instalments on 50,000 at 1 % a month (an annuity of 25,375.62 rounded to the minor unit).
    assert.equal(future[0]!.principalDue + future[0]!.interestDue, 25_376n);
    assert.ok(future.every((row) => row.principalDue < 100_000n && row.status === 'pending'));
    await assertInstalmentsMatchLedger(loan.id);
    await assertLedgerClean();
  });

  test('return_to_wallet: the wallet pays only what is due; cash beyond it is credited to the wallet', async () => {
    const returning = await insertLoanProduct(t, { overpayment: 'return_to_wallet' });
    const erin = await customer(500_000);
    const loan = await activeLoan(t, erin, returning, dueThenTwoFuture());
    const response = await repay(erin.token, { loan_id: loan.id, amount_minor: 150_000, pin: TEST_PIN });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.json().amount_minor, 102_000);
    assert.equal(response.json().requested_minor, 150_000);
    assert.equal((await balanceOf(t, erin.wallet.id)).balance, 398_000);

    // Nothing is due any more: a wallet payment takes nothing.
    const nothing = await repay(erin.token, { loan_id: loan.id, amount_minor: 10_000, pin: TEST_PIN });
    assert.equal(nothing.statusCode, 409, nothing.body);
    assert.equal(nothing.json().error_code, 'LOAN_NOTHING_DUE');

    const frank = await customer(0);
    const second = await activeLoan(t, frank, returning, dueThenTwoFuture());
    const cash = await repay(officer, {
      loan_id: second.id,
      amount_minor: 110_000,
      source: 'cash',
      external_reference: 'RCPT-0001',
    });
    assert.equal(cash.statusCode, 201, cash.body);
    assert.equal(cash.json().amount_minor, 110_000);
    assert.equal(cash.json().refunded_minor, 8_000);
    assert.equal(cash.json().source, 'cash');
    assert.equal(cash.json().external_reference, 'RCPT-0001');
    assert.equal((await balanceOf(t, frank.wallet.id)).balance, 8_000);
    await assertInstalmentsMatchLedger(second.id);
    await assertLedgerClean();
  });

  test('the payoff quote closes the loan: later interest waived, every loan account at zero', async () => {
    const gina = await customer(600_000);
    const loan = await activeLoan(t, gina, product, [
      ...threeInstalments({ penalty: 5_000n, fee: 1_000n }),
      { dueIn: 50, principal: 100_000n, interest: 500n },
    ]);
    const quote = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/loan/${loan.id}/payoff`,
      headers: bearer(gina.token),
    });
    assert.equal(quote.statusCode, 200, quote.body);
    const q = quote.json();
    assert.equal(q.as_of, today());
    assert.equal(q.valid_until, `${today()}T23:59:59.999Z`);
    // Principal 400,000; interest 3,000 + 2,000 recognised + 1,000 of the running period (not the last one's 500).
    assert.deepEqual(
      [q.principal_minor, q.interest_minor, q.fee_minor, q.penalty_minor, q.total_minor],
      [400_000, 6_000, 1_000, 5_000, 412_000],
    );
    // Offering more than the payoff from the wallet takes only the payoff.
    const paid = await repay(gina.token, { loan_id: loan.id, amount_minor: 450_000, pin: TEST_PIN });
    assert.equal(paid.statusCode, 201, paid.body);
    assert.equal(paid.json().amount_minor, 412_000);
    assert.equal(paid.json().loan_status, 'closed');
    assert.equal(paid.json().outstanding_minor, 0);
    assert.equal((await loanRow(t, loan.id)).status, 'closed');
    const rows = await instalmentsOf(t, loan.id);
    assert.ok(rows.every((row) => row.status === 'paid'));
    assert.equal(rows[3]!.interestDue, 0n);
    assert.deepEqual(await loanBalances(t, loan.id), {
      principal: 0n,
      interest: 0n,
      fee: 0n,
      penalty: 0n,
      total: 0n,
    });
    const events = await eventsOf(t.deps.database.db, 'loan', loan.id);
    assert.ok(events.some((event) => event.topic === 'loans.loan_closed'));
    assert.equal((await balanceOf(t, gina.wallet.id)).balance, 188_000);

    // A closed loan takes no more repayments and has no quote.
    const again = await repay(gina.token, { loan_id: loan.id, amount_minor: 1_000, pin: TEST_PIN });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'LOAN_NOT_REPAYABLE');
    await assertLedgerClean();
  });

  test('a daily-interest payoff takes the days not yet accrued straight to income', async () => {
    const daily = await insertLoanProduct(t, { interest_calculation: 'daily' });
    const mia = await customer(300_000);
    const yesterday = addDays(today(), -1);
    const loan = await activeLoan(
      t,
      mia,
      daily,
      [
        { dueIn: -10, principal: 100_000n, interest: 2_000n },
        { dueIn: 20, principal: 100_000n, interest: 1_000n, accrued: 300n },
      ],
      { accruedThrough: yesterday },
    );
    const quote = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/loan/${loan.id}/payoff`,
      headers: bearer(mia.token),
    });
    assert.equal(quote.statusCode, 200, quote.body);
    // One day not yet accrued: 200,000 × 12 % / 365 = 65.75, rounded to 66.
    assert.equal(quote.json().interest_minor, 2_000 + 300 + 66);
    const paid = await repay(mia.token, {
      loan_id: loan.id,
      amount_minor: quote.json().total_minor,
      pin: TEST_PIN,
    });
    assert.equal(paid.statusCode, 201, paid.body);
    assert.equal(paid.json().loan_status, 'closed');
    assert.equal((await loanBalances(t, loan.id)).total, 0n);
    const [running] = (await instalmentsOf(t, loan.id)).slice(1);
    assert.equal(running!.interestPaid, 366n);
    assert.equal(running!.interestAccrued, 366n, 'what was paid counts as recognised');
    await assertLedgerClean();
  });

  test('a replay with the same Idempotency-Key answers the same bytes with one ledger batch', async () => {
    const hank = await customer(500_000);
    const loan = await activeLoan(t, hank, product, threeInstalments());
    const key = `replay-${randomUUID()}`;
    const payload = { loan_id: loan.id, amount_minor: 20_000, pin: TEST_PIN };
    const first = await repay(hank.token, payload, key);
    assert.equal(first.statusCode, 201, first.body);
    const second = await repay(hank.token, payload, key);
    assert.equal(second.statusCode, 201);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(second.body, first.body);
    const recorded = await t.deps.database.db
      .select()
      .from(loanTransactions)
      .where(eq(loanTransactions.loanId, loan.id));
    assert.equal(recorded.filter((row) => row.type === 'repayment').length, 1);
    const batches = await rawRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from ledger_batches where key = ${recorded.find((row) => row.type === 'repayment')!.dedupeKey}`,
    );
    assert.equal(batches[0]!.n, 1);
    assert.equal((await balanceOf(t, hank.wallet.id)).balance, 480_000);
    await assertInstalmentsMatchLedger(loan.id);
    await assertLedgerClean();
  });

  test('refusals: wrong PIN, insufficient funds, one-time code, another customer’s loan, staff without loan:repay', async () => {
    const ivy = await customer(10_000);
    const loan = await activeLoan(t, ivy, product, threeInstalments());
    const wrongPin = await repay(ivy.token, { loan_id: loan.id, amount_minor: 5_000, pin: '0000' });
    assert.equal(wrongPin.statusCode, 401, wrongPin.body);
    assert.equal(wrongPin.json().error_code, 'INVALID_PIN');

    const short = await repay(ivy.token, { loan_id: loan.id, amount_minor: 50_000, pin: TEST_PIN });
    assert.equal(short.statusCode, 409, short.body);
    assert.equal(short.json().error_code, 'LOAN_REPAYMENT_INSUFFICIENT_FUNDS');
    assert.deepEqual(short.json().details, { required: 50_000, available: 10_000 });
    assert.equal((await balanceOf(t, ivy.wallet.id)).balance, 10_000);
    assert.ok((await instalmentsOf(t, loan.id)).every((row) => row.principalPaid === 0n));

    const large = await repay(ivy.token, { loan_id: loan.id, amount_minor: 10_000_000, pin: TEST_PIN });
    assert.equal(large.statusCode, 428, large.body);
    assert.equal(large.json().error_code, 'OTP_REQUIRED');

    const jack = await customer(100_000);
    const foreign = await repay(jack.token, { loan_id: loan.id, amount_minor: 5_000, pin: TEST_PIN });
    assert.equal(foreign.statusCode, 404, foreign.body);
    assert.equal(foreign.json().error_code, 'LOAN_NOT_FOUND');
    const foreignQuote = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/loan/${loan.id}/payoff`,
      headers: bearer(jack.token),
    });
    assert.equal(foreignQuote.statusCode, 404);
    assert.equal((await balanceOf(t, jack.wallet.id)).balance, 100_000);

    const customerCash = await repay(ivy.token, {
      loan_id: loan.id,
      amount_minor: 5_000,
      source: 'cash',
      pin: TEST_PIN,
    });
    assert.equal(customerCash.statusCode, 422, customerCash.body);
    const staffNoReference = await repay(officer, { loan_id: loan.id, amount_minor: 5_000, source: 'bank' });
    assert.equal(staffNoReference.statusCode, 422, staffNoReference.body);

    const support = await staffToken(t, 'repay_support', ['support_agent']);
    const forbidden = await repay(support, {
      loan_id: loan.id,
      amount_minor: 5_000,
      source: 'cash',
      external_reference: 'R-1',
    });
    assert.equal(forbidden.statusCode, 403);
    await assertLedgerClean();
  });

  test('a loan approved and disbursed through the accounts routes is repaid and paid off by its customer', async () => {
    const limit = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/approvallimit/set',
      headers: bearer(t.adminToken),
      payload: { role_code: 'loan_officer', currency: 'KES', max_amount_minor: 50_000_000 },
    });
    assert.equal(limit.statusCode, 200, limit.body);
    const lena = await customer(0);
    const applicationId = await insertApplication(t, {
      customerId: lena.id,
      product,
      amountMinor: 1_200_000,
      term: 12,
    });
    const approved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/loan/approve',
      headers: bearer(officer),
      payload: { application_id: applicationId },
    });
    assert.equal(approved.statusCode, 200, approved.body);
    const loanId = approved.json().loan.id as string;
    const disbursed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/loan/disburse',
      headers: { ...bearer(officer), 'idempotency-key': `disburse-${randomUUID()}` },
      payload: { loan_id: loanId },
    });
    assert.equal(disbursed.statusCode, 200, disbursed.body);
    assert.equal((await balanceOf(t, lena.wallet.id)).balance, 1_200_000);

    // Nothing is due yet: a partial payment prepays principal and the schedule is recast (reduce_term).
    const part = await repay(lena.token, { loan_id: loanId, amount_minor: 300_000, pin: TEST_PIN });
    assert.equal(part.statusCode, 201, part.body);
    assert.equal(part.json().allocation.prepayment_minor, 300_000);
    assert.ok((await instalmentsOf(t, loanId)).length < 12, 'fewer instalments after the prepayment');
    await assertInstalmentsMatchLedger(loanId);

    const quote = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/loan/${loanId}/payoff`,
      headers: bearer(lena.token),
    });
    assert.equal(quote.statusCode, 200, quote.body);
    // Disbursed today: the first period has not started running, so only principal is owed.
    assert.equal(quote.json().total_minor, 900_000);
    const payoff = await repay(lena.token, { loan_id: loanId, amount_minor: 900_000, pin: TEST_PIN });
    assert.equal(payoff.statusCode, 201, payoff.body);
    assert.equal(payoff.json().loan_status, 'closed');
    assert.equal((await loanBalances(t, loanId)).total, 0n);
    assert.equal((await balanceOf(t, lena.wallet.id)).balance, 0);
    const shown = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/loan/${loanId}`,
      headers: bearer(lena.token),
    });
    assert.equal(shown.statusCode, 200, shown.body);
    assert.equal(shown.json().status, 'closed');
    await assertLedgerClean();
  });

  test('a customer’s repayment and an automatic collection at once never allocate more than is due', async () => {
    const returning = await insertLoanProduct(t, { overpayment: 'return_to_wallet' });
    for (let round = 0; round < 4; round += 1) {
      const kim = await customer(400_000);
      // The last instalment is large, so the customer's 150,000 never covers the payoff.
      const loan = await activeLoan(t, kim, returning, [
        ...threeInstalments().slice(0, 2),
        { dueIn: 20, principal: 300_000n, interest: 1_000n },
      ]);
      const due = 205_000n;
      const [http, collected] = await Promise.all([
        repay(kim.token, { loan_id: loan.id, amount_minor: 150_000, pin: TEST_PIN }),
        inTransaction(t.deps.database.db, (tx) =>
          repaymentsOf(t).service.collect(tx, loan.id, `auto:${loan.id}:race`, today()),
        ),
      ]);
      const byHttp = http.statusCode === 201 ? BigInt(http.json().amount_minor) : 0n;
      if (http.statusCode !== 201) assert.equal(http.json().error_code, 'LOAN_NOTHING_DUE', http.body);
      const byCollection = collected?.amount_minor ?? 0n;
      assert.equal(byHttp + byCollection, due, `round ${round}: ${byHttp} + ${byCollection}`);
      const rows = await instalmentsOf(t, loan.id);
      assert.deepEqual(
        rows.map((row) => row.status),
        ['paid', 'paid', 'pending'],
      );
      assert.equal((await balanceOf(t, kim.wallet.id)).balance, Number(400_000n - due));
      await assertInstalmentsMatchLedger(loan.id);
    }

    // Deterministically: the customer's repayment arrives while a collection holds the loan; it waits for the lock
    // and then finds nothing due (the collection took it all).
    const lou = await customer(400_000);
    const held = await activeLoan(t, lou, returning, [
      ...threeInstalments().slice(0, 2),
      { dueIn: 20, principal: 300_000n, interest: 1_000n },
    ]);
    let waiting: ReturnType<typeof repay> | undefined;
    const collected = await inTransaction(t.deps.database.db, async (tx) => {
      const result = await repaymentsOf(t).service.collect(tx, held.id, `auto:${held.id}:held`, today());
      waiting = repay(lou.token, { loan_id: held.id, amount_minor: 150_000, pin: TEST_PIN });
      await new Promise((resolve) => setTimeout(resolve, 300));
      return result;
    });
    assert.equal(collected?.amount_minor, 205_000n);
    const late = await waiting!;
    assert.equal(late.statusCode, 409, late.body);
    assert.equal(late.json().error_code, 'LOAN_NOTHING_DUE');
    assert.equal((await balanceOf(t, lou.wallet.id)).balance, 195_000);
    await assertInstalmentsMatchLedger(held.id);
    await assertLedgerClean();
  });
});
