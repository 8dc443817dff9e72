/**
 * The USSD loans port against the real loans module: offers follow the application's eligibility rules, an
 * application goes through the real pipeline (fraud rules, internal scoring without a bureau, automatic approval), a
 * repayment is the app's customer repayment from the wallet, and a step delivered again under the same idempotency
 * key has one effect and the same outcome.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, count, eq } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { insertLoanProduct, loanCustomer, type TestProduct } from '../../../test/helpers/loans.ts';
import { activeLoan } from '../../../test/helpers/loans-repayments.ts';
import { balanceOf, createCustomer, TEST_PIN } from '../../../test/helpers/money.ts';
import { seasonedCustomer } from '../../../test/helpers/ussd-loans.ts';
import { inTransaction } from '../../platform/db.ts';
import { customersModule, setCustomerTier } from '../customers/index.ts';
import { loansModule } from '../loans/index.ts';
import { loanApplications, loanTransactions } from '../loans/loans.tables.ts';
import { settingsModule } from '../settings/index.ts';
import { UssdLoans } from './ussd.loans.ts';

const SESSION = { gateway: 'at', sessionId: 'ATUid_loans_test' };

describe('USSD loans port', () => {
  let t: TestContext;
  let port: UssdLoans;
  let product: TestProduct;
  const key = () => `ussd:at:${randomUUID()}:loans.apply_pin:test`;

  before(async () => {
    t = await startTestApp();
    const system = t.application.system;
    port = new UssdLoans({
      loans: system.api(loansModule),
      auth: system.api(customersModule).auth,
      settings: system.api(settingsModule),
      idempotency: t.deps.idempotency,
    });
    product = await insertLoanProduct(
      t,
      { auto_approve_limit_minor: '2000000', max_amount_minor: '5000000', min_term: 1, max_term: 6 },
      { name: 'Quick cash' },
    );
  });
  after(async () => t.close());

  test('offers: an eligible customer gets the product with its ranges; one without a wallet gets the reason', async () => {
    const eligible = await loanCustomer(t, 'Offer', '+254755100001', { tier: 'standard' });
    const found = await port.offers(eligible.id);
    assert.equal(found.refusal, null);
    const offer = found.offers.find((candidate) => candidate.productId === product.id);
    assert.ok(offer, 'the test product is offered');
    assert.equal(offer.maxAmountMinor, 5_000_000n);
    assert.equal(offer.minAmountMinor, 100_000n);
    assert.deepEqual([offer.minTerm, offer.maxTerm], [1, 6]);
    // The seeded SME product asks for a 90-day-old wallet: not offered to a new one, as the application would refuse.
    assert.ok(!found.offers.some((candidate) => candidate.code === 'sme-working-capital'));

    // The most telling reason of the products': a low KYC tier first, then a missing wallet.
    const newcomer = await createCustomer(t, 'Newcomer', '+254755100002');
    assert.deepEqual(await port.offers(newcomer.id), { offers: [], refusal: 'KYC_TIER_TOO_LOW' });
    await inTransaction(t.deps.database.db, (tx) => setCustomerTier(tx, newcomer.id, 'standard', null));
    assert.deepEqual(await port.offers(newcomer.id), { offers: [], refusal: 'NO_WALLET' });
  });

  test('a quote gives the instalment, the total and the fee of the schedule disbursement would make', async () => {
    const quote = await port.quote(product.id, 1_200_000n, 3);
    assert.equal(quote.term, 3);
    assert.equal(quote.fee_minor, 0n);
    // 12 % a year, monthly, equal instalments: interest is owed on top of the principal.
    assert.ok(quote.total_repayable_minor > 1_200_000n);
    assert.ok(quote.instalment_minor * 3n >= quote.total_repayable_minor - 2n);
    await assert.rejects(port.quote(product.id, 9_000_000n, 3), { errorCode: 'LOAN_AMOUNT_OUT_OF_RANGE' });
  });

  test('apply: approved through the pipeline on channel ussd; a replay of the key has one effect', async () => {
    const grace = await seasonedCustomer(t, 'Grace', '+254755100003');
    const idempotencyKey = key();
    const input = { productId: product.id, amountMinor: 1_500_000n, term: 3, pin: TEST_PIN };
    const outcome = await port.apply(grace.id, input, idempotencyKey, SESSION);
    assert.equal(
      outcome.kind,
      'approved',
      JSON.stringify(outcome, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
    );
    assert.equal(outcome.amountMinor, 1_500_000n);
    assert.equal(outcome.disbursed, false);
    const replay = await port.apply(grace.id, input, idempotencyKey, SESSION);
    assert.deepEqual(replay, outcome);
    const rows = await t.deps.database.db
      .select()
      .from(loanApplications)
      .where(eq(loanApplications.customerId, grace.id));
    assert.equal(rows.length, 1, 'one application for two deliveries');
    assert.equal(rows[0]!.channel, 'ussd');
    assert.equal(rows[0]!.status, 'approved');

    // The rules hold for the next one: the customer's own loan counts against the product's active-loan limit.
    const summaries = await port.loans(grace.id);
    assert.deepEqual(
      summaries.map((loan) => [loan.status, loan.number, loan.principalMinor, loan.nextDueDate]),
      [['approved', outcome.kind === 'approved' ? outcome.loanNumber : '', 1_500_000n, null]],
    );
  });

  test('apply: a wrong PIN submits nothing and leaves the key free; an ineligible customer is refused', async () => {
    const ben = await loanCustomer(t, 'Ben', '+254755100004', { tier: 'standard' });
    const idempotencyKey = key();
    const input = { productId: product.id, amountMinor: 500_000n, term: 2, pin: '1111' };
    await assert.rejects(port.apply(ben.id, input, idempotencyKey, SESSION), {
      errorCode: 'INVALID_PIN',
      details: { attempts_left: 4 },
    });
    const [none] = await t.deps.database.db
      .select({ n: count() })
      .from(loanApplications)
      .where(eq(loanApplications.customerId, ben.id));
    assert.equal(none!.n, 0);
    const decided = await port.apply(ben.id, { ...input, pin: TEST_PIN }, idempotencyKey, SESSION);
    assert.ok(['approved', 'referred', 'declined'].includes(decided.kind), decided.kind);

    const walletless = await createCustomer(t, 'Nowallet2', '+254755100005');
    await inTransaction(t.deps.database.db, (tx) => setCustomerTier(tx, walletless.id, 'standard', null));
    const refused = await port.apply(walletless.id, { ...input, pin: TEST_PIN }, key(), SESSION);
    assert.deepEqual(refused, { kind: 'refused', code: 'NOT_ELIGIBLE', reasons: ['NO_WALLET'] });
  });

  test('repay: from the wallet, the outstanding goes down; a replay has one effect; big amounts go to the app', async () => {
    const payer = await loanCustomer(t, 'Payer', '+254755100006', { tier: 'standard', balance: 2_000_000 });
    const loan = await activeLoan(t, payer, product, [
      { dueIn: 0, principal: 300_000n, interest: 10_000n },
      { dueIn: 35, principal: 300_000n, interest: 7_000n },
    ]);
    const [summary] = await port.loans(payer.id);
    assert.ok(summary);
    assert.equal(summary.loanId, loan.id);
    assert.equal(summary.status, 'active');
    assert.equal(summary.nextDueMinor, 310_000n);
    assert.equal(summary.overdue, false);
    const before = summary.outstandingMinor;

    const idempotencyKey = `ussd:at:${randomUUID()}:loans.repay_pin:repay`;
    const input = { loanId: loan.id, amountMinor: 310_000n, pin: TEST_PIN };
    const paid = await port.repay(payer.id, input, idempotencyKey, SESSION);
    assert.equal(paid.kind, 'paid');
    assert.equal(paid.amountMinor, 310_000n);
    assert.equal(paid.outstandingMinor, before - 310_000n);
    assert.equal(paid.closed, false);
    const again = await port.repay(payer.id, input, idempotencyKey, SESSION);
    assert.deepEqual(again, paid);
    const [repayments] = await t.deps.database.db
      .select({ n: count() })
      .from(loanTransactions)
      .where(and(eq(loanTransactions.loanId, loan.id), eq(loanTransactions.type, 'repayment')));
    assert.equal(repayments!.n, 1, 'one repayment for two deliveries');
    assert.equal((await balanceOf(t, payer.wallet.id)).available, 2_000_000 - 310_000);
    const [after] = await port.loans(payer.id);
    assert.equal(after!.outstandingMinor, before - 310_000n);
    assert.equal(after!.nextDueMinor, 307_000n);

    // At the one-time-code threshold (KES 100,000 by default) USSD refuses before the PIN: a wrong PIN is not tried.
    assert.equal(await port.needsApp('KES', 10_000_000n), true);
    const big = await port.repay(
      payer.id,
      { loanId: loan.id, amountMinor: 10_000_000n, pin: '0000' },
      `${idempotencyKey}:big`,
      SESSION,
    );
    assert.deepEqual(big, { kind: 'refused', code: 'USE_APP' });

    // More than the wallet holds: refused and stored, so the step delivered again answers the same; nothing taken.
    const poor = await loanCustomer(t, 'Poor', '+254755100007', { tier: 'standard', balance: 100_000 });
    const owed = await activeLoan(t, poor, product, [{ dueIn: 3, principal: 300_000n, interest: 10_000n }]);
    const shortKey = `ussd:at:${randomUUID()}:loans.repay_pin:short`;
    const shortInput = { loanId: owed.id, amountMinor: 310_000n, pin: TEST_PIN };
    const short = await port.repay(poor.id, shortInput, shortKey, SESSION);
    assert.deepEqual(short, { kind: 'refused', code: 'INSUFFICIENT_FUNDS' });
    assert.deepEqual(await port.repay(poor.id, shortInput, shortKey, SESSION), short);
    assert.equal((await balanceOf(t, poor.wallet.id)).available, 100_000);
  });
});
