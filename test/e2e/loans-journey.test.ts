/**
 * The loan lifecycle end to end through the typed client only (clients/typescript) against a listening API: staff
 * create a product, a customer applies (fraud check, scoring, referral), a loan officer approves, the loan is
 * disbursed (a replay is byte-identical), the customer repays part from the wallet with the PIN, close of business
 * runs day by day until an instalment is late and penalised, the late instalment and then the payoff quote are paid
 * and the loan closes. A second loan goes 90+ days past due, is written off (maker-checker) and recovered. After
 * every step the ledger verifies clean and the loan's outstanding per part equals its four ledger accounts and what
 * its instalments still owe.
 *
 * Close of business only runs for today or earlier, so each loan is moved back in time right after disbursement
 * (its disbursement date, due dates and disbursement business date shifted by whole weeks, keeping weekdays) and
 * close of business is then run for every business date from the day after its disbursement to today.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { type CodeForgeClient, createCodeForgeClient } from '../../clients/typescript/index.ts';
import { verifyLedger } from '../../src/modules/ledger/index.ts';
import { addDays } from '../../src/modules/loans/loans.calendar.ts';
import { LoanLedger } from '../../src/modules/loans/loans.ledger.ts';
import { loans } from '../../src/modules/loans/loans.tables.ts';
import { FakeMetropol } from '../fakes/metropol.ts';
import { startTestApp, type TestContext } from '../helpers/app.ts';
import { accessToken, expectData } from '../helpers/client.ts';

const PIN = '8351';
const STAFF_PASSWORD = 'amber lantern river 7';
const today = () => new Date().toISOString().slice(0, 10);
const key = () => ({ 'Idempotency-Key': randomUUID() });

describe('the loan lifecycle through the typed client', () => {
  let t: TestContext;
  let baseUrl: string;
  const client = (token?: string): CodeForgeClient => createCodeForgeClient({ baseUrl, token });
  let admin: CodeForgeClient;
  let officer: CodeForgeClient;
  let teller: CodeForgeClient;
  let productId: string;
  const customers: Record<'amani' | 'baraka', { id: string; walletId: string; me: CodeForgeClient }> =
    {} as never;
  let firstLoanId: string;

  const bureau = new FakeMetropol();
  let closeBureau: () => Promise<void>;

  before(async () => {
    const started = await bureau.start();
    closeBureau = started.close;
    t = await startTestApp(
      {
        METROPOL_BASE_URL: started.baseUrl,
        METROPOL_PUBLIC_KEY: bureau.publicKey,
        METROPOL_PRIVATE_KEY: bureau.privateKey,
      },
      // Close of business queues reminders and collection work: the job queue runs.
      { startJobs: true },
    );
    baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    admin = client(t.adminToken);
  });
  after(async () => {
    await t?.close();
    await closeBureau?.();
  });

  async function staffUser(username: string, roles: string[]): Promise<CodeForgeClient> {
    expectData(
      await admin.POST('/api/v1/user/user/add', {
        body: {
          username,
          email: `${username}@bank.test`,
          full_name: `${username} of the bank`,
          password: STAFF_PASSWORD,
          roles,
          must_change_password: false,
        },
      }),
      201,
    );
    const login = await client().POST('/api/v1/auth/login', {
      body: { username, password: STAFF_PASSWORD },
    });
    return client(accessToken(expectData(login, 200)));
  }

  /**
   * A customer with a national ID the bureau knows (a good score: a new wallet's thin history alone would decline),
   * a verified phone, a KES wallet holding `cash` and a PIN, signed in.
   */
  async function customer(firstName: string, phone: string, nationalId: string, cash: number) {
    bureau.setPerson(nationalId, { score: 800, delinquencyCode: '002' });
    const created = expectData(
      await teller.POST('/api/v1/customer/customer/add', {
        body: {
          first_name: firstName,
          last_name: 'Mwangi',
          phone,
          national_id: nationalId,
          national_id_type: 'national_id',
        },
      }),
      201,
    );
    expectData(
      await teller.POST('/api/v1/customer/phone/verify', { body: { customer_id: created.id } }),
      200,
    );
    const wallet = expectData(
      await teller.POST('/api/v1/wallet/wallet/create', {
        body: { customer_id: created.id, currency: 'KES' },
      }),
      201,
    );
    expectData(
      await teller.POST('/api/v1/wallet/transaction/deposit', {
        params: { header: key() },
        body: { wallet_id: wallet.id, amount: cash, currency: 'KES' },
      }),
      201,
    );
    const pin = await teller.POST('/api/v1/customer/credentials/pin', {
      body: { customer_id: created.id, pin: PIN },
    });
    assert.equal(pin.response.status, 204);
    const login = await client().POST('/api/v1/auth/customer/login', { body: { phone, pin: PIN } });
    return { id: created.id, walletId: wallet.id, me: client(accessToken(expectData(login, 200))) };
  }

  /** The ledger verifies clean, and the loan's outstanding = its four accounts = what its instalments owe. */
  async function assertBooksAgree(loanId: string) {
    const db = t.deps.database.db;
    const verification = await verifyLedger(db);
    assert.ok(verification.ok, JSON.stringify(verification));
    const view = expectData(
      await admin.GET('/api/v1/loan/loan/{id}', { params: { path: { id: loanId } } }),
      200,
    );
    const [row] = await db.select().from(loans).where(eq(loans.id, loanId));
    const ledger = await new LoanLedger(t.application.ledger).loanOutstanding(db, row!);
    assert.deepEqual(
      [
        view.outstanding.principal_minor,
        view.outstanding.interest_minor,
        view.outstanding.fee_minor,
        view.outstanding.penalty_minor,
        view.outstanding.total_minor,
      ].map(BigInt),
      [ledger.principal, ledger.interest, ledger.fee, ledger.penalty, ledger.total],
    );
    if (view.status === 'written_off') return view;
    const schedule = expectData(
      await admin.GET('/api/v1/loan/loan/{id}/schedule', { params: { path: { id: loanId } } }),
      200,
    );
    const sum = (pick: (item: (typeof schedule.items)[number]) => number) =>
      schedule.items.reduce((total, item) => total + BigInt(pick(item)), 0n);
    const max0 = (value: bigint) => (value > 0n ? value : 0n);
    assert.deepEqual(
      [ledger.principal, ledger.interest, ledger.fee, ledger.penalty],
      [
        sum((i) => i.principal_due_minor - i.principal_paid_minor),
        schedule.items.reduce(
          (total, i) => total + max0(BigInt(i.interest_accrued_minor) - BigInt(i.interest_paid_minor)),
          0n,
        ),
        sum((i) => i.fee_due_minor - i.fee_paid_minor),
        sum((i) => i.penalty_due_minor - i.penalty_paid_minor),
      ],
    );
    return view;
  }

  /** Moves a just-disbursed loan `days` back in time (a whole number of weeks keeps due dates on working days). */
  async function backdate(loanId: string, days: number) {
    assert.equal(days % 7, 0);
    const db = t.deps.database.db;
    await db.execute(sql`update loans set disbursed_on = disbursed_on - ${days}::int where id = ${loanId}`);
    await db.execute(
      sql`update loan_instalments set due_date = due_date - ${days}::int where loan_id = ${loanId}`,
    );
    await db.execute(
      sql`update loan_transactions set business_date = business_date - ${days}::int where loan_id = ${loanId}`,
    );
  }

  /** Close of business through the API for every date from `from` to `to`, inclusive. */
  async function closeBusiness(from: string, to: string) {
    for (let date = from; date <= to; date = addDays(date, 1)) {
      const run = expectData(
        await admin.POST('/api/v1/loan/cob/run', { body: { business_date: date } }),
        200,
      );
      assert.equal(run.status, 'completed', JSON.stringify(run));
    }
  }

  /** Applies, checks fraud, scores, approves and disburses: the loan's id. */
  async function applyAndDisburse(who: { id: string; me: CodeForgeClient }, amount: number) {
    const applied = expectData(
      await who.me.POST('/api/v1/loan/application/add', {
        params: { header: key() },
        body: {
          product_id: productId,
          amount_minor: amount,
          term: 3,
          purpose: 'Stock for the shop',
          declared_monthly_income_minor: 300_000,
        },
      }),
      201,
    );
    assert.equal(applied.status, 'referred', JSON.stringify(applied));
    const fraud = expectData(
      await admin.POST('/api/v1/loan/fraud/check', { body: { application_id: applied.id } }),
      200,
    );
    assert.equal(fraud.flagged, false, JSON.stringify(fraud));
    assert.ok(fraud.score < fraud.threshold && fraud.results.length > 0);
    const scored = expectData(
      await officer.POST('/api/v1/loan/scoring/loan', { body: { application_id: applied.id } }),
      200,
    );
    assert.notEqual(scored.decision, 'decline', JSON.stringify(scored));
    const referred = expectData(
      await officer.GET('/api/v1/loan/application/{id}', { params: { path: { id: applied.id } } }),
      200,
    );
    assert.equal(referred.status, 'referred');

    const decided = expectData(
      await officer.POST('/api/v1/loan/loan/approve', { body: { application_id: applied.id } }),
      200,
    );
    assert.ok('loan' in decided && decided.loan, JSON.stringify(decided));
    assert.equal(decided.status, 'approved');
    const loanId = decided.loan.id;

    const disburseKey = key();
    const first = await officer.POST('/api/v1/loan/loan/disburse', {
      params: { header: disburseKey },
      body: { loan_id: loanId },
      parseAs: 'text',
    });
    const text = expectData(first, 200);
    const replay = await officer.POST('/api/v1/loan/loan/disburse', {
      params: { header: disburseKey },
      body: { loan_id: loanId },
      parseAs: 'text',
    });
    assert.equal(expectData(replay, 200), text, 'a replay answers byte for byte');
    assert.equal(replay.response.headers.get('idempotent-replayed'), 'true');
    const disbursed = JSON.parse(text) as { status: string };
    assert.equal(disbursed.status, 'active');
    await assertBooksAgree(loanId);
    return loanId;
  }

  test('staff, a product and two customers', async () => {
    officer = await staffUser('officer', ['loan_officer']);
    teller = await staffUser('teller', ['operations']);
    const product = expectData(
      await admin.POST('/api/v1/loan/product/add', {
        body: {
          code: 'biashara-monthly',
          name: 'Biashara monthly',
          currency: 'KES',
          terms: {
            min_amount_minor: 100_000,
            max_amount_minor: 5_000_000,
            min_term: 1,
            max_term: 12,
            frequency: 'monthly',
            interest_method: 'declining_equal_instalments',
            interest_calculation: 'per_period',
            annual_rate: '12',
            late_penalty: { type: 'percent', value: '5', after_days: 3 },
            eligibility: { min_kyc_tier: 'basic', min_wallet_tenure_days: 0, max_active_loans: 2 },
            fraud_threshold: 100,
            auto_approve_limit_minor: 0,
            maker_checker_above_minor: 100_000_000,
          },
        },
      }),
      201,
    );
    productId = product.id;
    customers.amani = await customer('Amani', '+254711200101', '31415926', 600_000);
    customers.baraka = await customer('Baraka', '+254711200102', '27182818', 600_000);
    const products = expectData(await customers.amani.me.GET('/api/v1/loan/product/list'), 200);
    assert.ok(products.items.some((item) => item.id === productId));
    const config = expectData(await client().GET('/api/v1/app/config'), 200);
    assert.equal(config.features.loans, true);
  });

  test('apply → fraud check → scoring → referral → approval → disbursement', async () => {
    firstLoanId = await applyAndDisburse(customers.amani, 1_000_000);
    await backdate(firstLoanId, 42);
    const mine = expectData(await customers.amani.me.GET('/api/v1/loan/my'), 200);
    assert.deepEqual(
      mine.items.map((item) => item.id),
      [firstLoanId],
    );
    const other = await customers.baraka.me.GET('/api/v1/loan/loan/{id}', {
      params: { path: { id: firstLoanId } },
    });
    assert.equal(other.response.status, 404, 'another customer’s loan is not found');
    const pdf = expectData(
      await customers.amani.me.GET('/api/v1/loan/loan/{id}/statement.pdf', {
        params: { path: { id: firstLoanId } },
        parseAs: 'arrayBuffer',
      }),
      200,
    );
    assert.equal(Buffer.from(pdf).subarray(0, 5).toString(), '%PDF-');
  });

  test('close of business to the first due date, a partial repayment, then late with a penalty', async () => {
    const me = customers.amani.me;
    const loan = expectData(
      await me.GET('/api/v1/loan/loan/{id}', { params: { path: { id: firstLoanId } } }),
      200,
    );
    const schedule = expectData(
      await admin.GET('/api/v1/loan/loan/{id}/schedule', { params: { path: { id: firstLoanId } } }),
      200,
    );
    const firstDue = schedule.items[0]!.due_date;
    assert.ok(firstDue < today() && schedule.items[1]!.due_date > today());
    await closeBusiness(addDays(loan.disbursed_on!, 1), firstDue);
    await assertBooksAgree(firstLoanId);

    const paid = expectData(
      await me.POST('/api/v1/loan/repayment/add', {
        params: { header: key() },
        body: { loan_id: firstLoanId, amount_minor: 100_000, pin: PIN },
      }),
      201,
    );
    assert.equal(BigInt(paid.requested_minor), 100_000n);
    let view = await assertBooksAgree(firstLoanId);
    assert.equal(view.next_due?.seq, 1, 'a partial payment leaves the first instalment open');

    await closeBusiness(addDays(firstDue, 1), today());
    view = await assertBooksAgree(firstLoanId);
    assert.ok(view.days_past_due > 3, JSON.stringify(view));
    assert.ok(view.outstanding.penalty_minor > 0, 'the late instalment was penalised');
    assert.equal(view.next_due?.status, 'overdue');
  });

  test('the late instalment with its penalty, then the payoff quote closes the loan', async () => {
    const me = customers.amani.me;
    const late = expectData(
      await me.GET('/api/v1/loan/loan/{id}/schedule', { params: { path: { id: firstLoanId } } }),
      200,
    ).items[0]!;
    assert.ok(late.penalty_due_minor > 0);
    expectData(
      await me.POST('/api/v1/loan/repayment/add', {
        params: { header: key() },
        body: { loan_id: firstLoanId, amount_minor: late.remaining_minor, pin: PIN },
      }),
      201,
    );
    const view = await assertBooksAgree(firstLoanId);
    assert.equal(view.outstanding.penalty_minor, 0);
    // days_past_due and the bucket are close of business's (as of the last close), so they are not asserted here.
    assert.equal(view.next_due?.seq, 2);

    const quote = expectData(
      await me.GET('/api/v1/loan/loan/{id}/payoff', { params: { path: { id: firstLoanId } } }),
      200,
    );
    assert.equal(BigInt(quote.principal_minor), BigInt(view.outstanding.principal_minor));
    expectData(
      await me.POST('/api/v1/loan/repayment/add', {
        params: { header: key() },
        body: { loan_id: firstLoanId, amount_minor: Number(quote.total_minor), pin: PIN },
      }),
      201,
    );
    const closed = await assertBooksAgree(firstLoanId);
    assert.equal(closed.status, 'closed');
    assert.equal(closed.outstanding.total_minor, 0);
  });

  test('a second loan 90+ days past due is written off with a second approver, then recovered', async () => {
    const loanId = await applyAndDisburse(customers.baraka, 500_000);
    await backdate(loanId, 126);
    const loan = expectData(
      await admin.GET('/api/v1/loan/loan/{id}', { params: { path: { id: loanId } } }),
      200,
    );
    await closeBusiness(addDays(loan.disbursed_on!, 1), today());
    const late = await assertBooksAgree(loanId);
    assert.ok(late.days_past_due > 90, JSON.stringify(late));
    assert.equal(late.arrears_bucket, '90+');

    const filed = expectData(
      await admin.POST('/api/v1/loan/loan/write-off', { body: { loan_id: loanId, reason: 'Uncollectable' } }),
      202,
    );
    assert.equal(
      expectData(await admin.GET('/api/v1/loan/loan/{id}', { params: { path: { id: loanId } } }), 200).status,
      'active',
      'nothing happens before the second approver',
    );
    const approved = expectData(
      await officer.POST('/api/v1/policy/approval/approve', { body: { request_id: filed.id } }),
      200,
    );
    assert.equal(approved.status, 'approved');
    const written = await assertBooksAgree(loanId);
    assert.equal(written.status, 'written_off');
    assert.equal(written.outstanding.total_minor, 0);

    const recovered = expectData(
      await admin.POST('/api/v1/loan/loan/recovery', {
        params: { header: key() },
        body: { loan_id: loanId, amount_minor: 50_000, source: 'wallet' },
      }),
      201,
    );
    assert.ok(recovered.transaction_id);
    await assertBooksAgree(loanId);
  });
});
