/**
 * Approval and disbursement over HTTP: approval limits, maker-checker, decline, the ledger effects of a disbursement
 * (deducted and first-instalment fees), idempotent replay, the maximum-balance refusal, the schedule from the
 * disbursement date, and customers reaching only their own loans.
 */
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
import { balanceOf } from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import { rawRows } from '../../platform/db.ts';
import { eventsOf } from '../../platform/outbox.ts';
import { LedgerService, verifyLedger } from '../ledger/index.ts';
import { loansModule } from './index.ts';
import { seedApprovalLimits } from './loans.accounts.limits.ts';
import { holidayCalendar } from './loans.calendar.ts';
import { loanFraudFlags } from './loans.fraud.tables.ts';
import { generateSchedule } from './loans.schedule.ts';
import { loanApplications, loanHolidays, loans, loanTransactions } from './loans.tables.ts';

const SYSTEM = { type: 'system', id: 'system' } as const;

describe('loan approval and disbursement', () => {
  let t: TestContext;
  let product: TestProduct;
  let officer: string;
  let checker: string;
  let phone = 254733200000;
  const nextPhone = () => {
    phone += 1;
    return `+${phone}`;
  };

  before(async () => {
    // Jobs started: queuing the customer's message enqueues its delivery.
    t = await startTestApp({}, { startJobs: true });
    // A 1 % upfront fee deducted at disbursement.
    product = await insertLoanProduct(t, { upfront_fee: { mode: 'deduct', percent: '1' } });
    officer = await staffToken(t, 'accounts_officer', ['loan_officer']);
    checker = await staffToken(t, 'accounts_checker', ['loan_officer']);
    await setLimit('loan_officer', 'KES', 30_000_000);
  });
  after(async () => {
    // What a 500 was, if any (the answer body only says INTERNAL_ERROR).
    for (const line of t.logs.lines) if (line.includes('"level":50')) console.error(line.slice(0, 2000));
    await t.close();
  });

  async function setLimit(role: string, currency: string, max: number | null) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/approvallimit/set',
      headers: bearer(t.adminToken),
      payload: { role_code: role, currency, max_amount_minor: max },
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  }

  const post = (url: string, token: string, payload: object, key?: string) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(token), ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });
  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });

  async function approved(
    customer: LoanCustomer,
    amount: number,
    options: { product?: TestProduct; term?: number } = {},
  ) {
    const applicationId = await insertApplication(t, {
      customerId: customer.id,
      product: options.product ?? product,
      amountMinor: amount,
      term: options.term ?? 12,
    });
    const response = await post('/api/v1/loan/loan/approve', officer, { application_id: applicationId });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.status, 'approved');
    return { applicationId, loan: body.loan };
  }

  const disburse = (loanId: string, key = `disburse-${randomUUID()}`) =>
    post('/api/v1/loan/loan/disburse', officer, { loan_id: loanId }, key);

  async function batchesWithKey(key: string) {
    return rawRows<{ id: string }>(t.deps.database.db, sql`select id from ledger_batches where key = ${key}`);
  }

  test('approve then disburse: the wallet gets the principal less the fee, the loan owes the principal', async () => {
    const customer = await loanCustomer(t, 'Amina', nextPhone(), { balance: 100_000 });
    const { applicationId, loan } = await approved(customer, 10_000_000);
    assert.equal(loan.status, 'approved');
    assert.match(loan.number, /^LN-\d{10}$/);
    assert.equal(loan.wallet_id, customer.wallet.id);
    assert.equal(loan.outstanding.total_minor, 0, 'nothing is owed before disbursement');
    const [application] = await t.deps.database.db
      .select()
      .from(loanApplications)
      .where(eq(loanApplications.id, applicationId));
    assert.equal(application!.status, 'approved');
    const provisional = await get(`/api/v1/loan/loan/${loan.id}/schedule`, officer);
    assert.equal(provisional.json().items.length, 12, 'approval generates the schedule');

    const key = `disburse-${randomUUID()}`;
    const first = await disburse(loan.id, key);
    assert.equal(first.statusCode, 200, first.body);
    const view = first.json();
    assert.equal(view.status, 'active');
    assert.equal(view.outstanding.principal_minor, 10_000_000);
    assert.equal(view.outstanding.fee_minor, 0);
    assert.equal(view.outstanding.total_minor, 10_000_000);
    assert.ok(view.next_due, 'the next instalment is shown');
    assert.equal(view.next_due.seq, 1);
    // 1 % of 100,000.00 deducted: 99,000.00 reaches the wallet.
    assert.equal((await balanceOf(t, customer.wallet.id)).balance, 100_000 + 9_900_000);

    const [row] = await t.deps.database.db.select().from(loans).where(eq(loans.id, loan.id));
    assert.ok(
      row!.principalAccountId && row!.interestAccountId && row!.feeAccountId && row!.penaltyAccountId,
    );
    const principal = await new LedgerService(t.deps.database.db).balance(row!.principalAccountId!);
    assert.equal(principal.balance, 10_000_000n, 'the principal account holds P');

    // Replay: the same bytes, one ledger batch, one disbursement record.
    const replay = await disburse(loan.id, key);
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.body, first.body, 'byte-identical answer');
    assert.equal((await batchesWithKey(`loan:${loan.id}:disbursement`)).length, 1);
    const records = await t.deps.database.db
      .select()
      .from(loanTransactions)
      .where(eq(loanTransactions.loanId, loan.id));
    assert.equal(records.length, 1);
    assert.equal(records[0]!.type, 'disbursement');
    assert.equal((await balanceOf(t, customer.wallet.id)).balance, 100_000 + 9_900_000, 'credited once');

    // Another key for the same loan: already disbursed.
    const again = await disburse(loan.id);
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().error_code, 'LOAN_WRONG_STATE');

    const transactions = await get(`/api/v1/loan/loan/${loan.id}/transactions`, customer.token);
    assert.equal(transactions.statusCode, 200, transactions.body);
    assert.deepEqual(
      transactions
        .json()
        .items.map((item: { type: string; amount_minor: number }) => [item.type, item.amount_minor]),
      [['disbursement', 10_000_000]],
    );
    assert.equal(transactions.json().items[0].allocation.fee_minor, 100_000);

    // The customer is told (SMS and inbox), and the disbursement is published.
    const messages = await rawRows<{ channel: string; body: string }>(
      t.deps.database.db,
      sql`select channel, body from notifications where recipient_id = ${customer.id} and data->>'loan_id' = ${loan.id}`,
    );
    assert.ok(
      messages.some((message) => message.channel === 'in_app' && message.body.includes(view.number)),
      JSON.stringify(messages),
    );
    const events = await eventsOf(t.deps.database.db, 'loan', loan.id);
    assert.deepEqual(
      events.map((event) => event.topic),
      ['loans.loan_disbursed'],
    );

    const verification = await verifyLedger(t.deps.database.db);
    assert.ok(verification.ok, JSON.stringify(verification));
  });

  test('the schedule is generated again from the disbursement date, holidays moved', async () => {
    const customer = await loanCustomer(t, 'Baraka', nextPhone(), { balance: 0 });
    const { loan } = await approved(customer, 2_000_000, { term: 6 });
    // A holiday on the provisional first due date's weekday-adjusted date must move it.
    const provisional = (await get(`/api/v1/loan/loan/${loan.id}/schedule`, officer)).json();
    const holiday = provisional.items[0].due_date as string;
    await t.deps.database.db.insert(loanHolidays).values({ date: holiday, name: 'Test holiday' });
    try {
      const disbursed = await disburse(loan.id);
      assert.equal(disbursed.statusCode, 200, disbursed.body);
      const disbursedOn = disbursed.json().disbursed_on as string;
      assert.equal(disbursedOn, new Date().toISOString().slice(0, 10));
      const expected = generateSchedule({
        principal: 2_000_000n,
        currency: 'KES',
        term: 6,
        terms: product.terms,
        disbursedOn,
        isWorkingDay: holidayCalendar([holiday]),
      });
      const schedule = (await get(`/api/v1/loan/loan/${loan.id}/schedule`, customer.token)).json();
      assert.equal(schedule.disbursed_on, disbursedOn);
      assert.deepEqual(
        schedule.items.map((item: Record<string, unknown>) => [
          item.seq,
          item.due_date,
          item.principal_due_minor,
          item.interest_due_minor,
          item.fee_due_minor,
        ]),
        expected.map((line) => [
          line.seq,
          line.due_date,
          Number(line.principal_due),
          Number(line.interest_due),
          Number(line.fee_due),
        ]),
      );
      assert.notEqual(schedule.items[0].due_date, holiday, 'no due date on the holiday');
    } finally {
      await t.deps.database.db.delete(loanHolidays).where(eq(loanHolidays.date, holiday));
    }
  });

  test('a first-instalment fee becomes a fee receivable and instalment 1’s fee', async () => {
    const feeProduct = await insertLoanProduct(t, {
      upfront_fee: { mode: 'first_instalment', fixed_minor: '50000' },
    });
    const customer = await loanCustomer(t, 'Chiku', nextPhone(), { balance: 0 });
    const { loan } = await approved(customer, 1_000_000, { product: feeProduct, term: 3 });
    const response = await disburse(loan.id);
    assert.equal(response.statusCode, 200, response.body);
    const view = response.json();
    assert.equal(view.outstanding.principal_minor, 1_000_000);
    assert.equal(view.outstanding.fee_minor, 50_000);
    assert.equal(view.next_due.fee_due_minor, 50_000);
    assert.equal((await balanceOf(t, customer.wallet.id)).balance, 1_000_000, 'no fee deducted');
    const kinds = (await get(`/api/v1/loan/loan/${loan.id}/transactions`, officer))
      .json()
      .items.map((item: { type: string }) => item.type);
    assert.deepEqual(kinds.sort(), ['disbursement', 'fee']);
    assert.ok((await verifyLedger(t.deps.database.db)).ok);
  });

  test('a disbursement above the wallet’s maximum balance is refused and writes nothing', async () => {
    // The basic tier caps a KES wallet at 100,000.00.
    const customer = await loanCustomer(t, 'Dalila', nextPhone(), { tier: 'basic', balance: 5_000_000 });
    const { loan } = await approved(customer, 6_000_000);
    const response = await disburse(loan.id);
    assert.equal(response.statusCode, 409, response.body);
    assert.equal(response.json().error_code, 'LOAN_MAX_BALANCE_EXCEEDED');
    assert.equal(response.json().details.max_balance_minor, '10000000');
    const [row] = await t.deps.database.db.select().from(loans).where(eq(loans.id, loan.id));
    assert.equal(row!.status, 'approved');
    assert.equal(row!.principalAccountId, null, 'no ledger accounts were created');
    assert.equal((await batchesWithKey(`loan:${loan.id}:disbursement`)).length, 0);
    const records = await t.deps.database.db
      .select()
      .from(loanTransactions)
      .where(eq(loanTransactions.loanId, loan.id));
    assert.equal(records.length, 0);
    assert.equal((await balanceOf(t, customer.wallet.id)).balance, 5_000_000);
  });

  test('disbursement needs an Idempotency-Key and an active wallet', async () => {
    const customer = await loanCustomer(t, 'Mosi', nextPhone(), { balance: 0 });
    const { loan } = await approved(customer, 1_000_000, { term: 3 });
    const keyless = await post('/api/v1/loan/loan/disburse', officer, { loan_id: loan.id });
    assert.equal(keyless.json().error_code, 'IDEMPOTENCY_KEY_REQUIRED', keyless.body);
    const frozen = await t.app.inject({
      method: 'POST',
      url: `/api/v1/wallet/wallet/${customer.wallet.id}/freeze`,
      headers: bearer(t.adminToken),
      payload: { reason: 'Suspicious activity under review' },
    });
    assert.equal(frozen.statusCode, 200, frozen.body);
    const refused = await disburse(loan.id);
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().error_code, 'LOAN_WALLET_UNAVAILABLE');
    const missing = await disburse(randomUUID());
    assert.equal(missing.statusCode, 404, missing.body);
    assert.equal(missing.json().error_code, 'LOAN_NOT_FOUND');
  });

  test('approval limits: none for the currency, or below the amount, is refused', async () => {
    const customer = await loanCustomer(t, 'Eshe', nextPhone(), { balance: 0 });
    const above = await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 40_000_000,
      term: 12,
    });
    const refused = await post('/api/v1/loan/loan/approve', officer, { application_id: above });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json().error_code, 'LOAN_APPROVAL_LIMIT_EXCEEDED');
    // A new installation gives administrators a limit (seeded while the table is empty); once removed the role
    // may not approve at all, and a restart's seed does not bring it back.
    const seeded = await get('/api/v1/loan/approvallimit/list', t.adminToken);
    assert.ok(
      seeded.json().items.some((item: { role_code: string }) => item.role_code === 'super_admin'),
      seeded.body,
    );
    for (const role_code of ['admin', 'super_admin']) {
      const removed = await post('/api/v1/loan/approvallimit/set', t.adminToken, {
        role_code,
        currency: 'KES',
        max_amount_minor: null,
      });
      assert.equal(removed.statusCode, 200, removed.body);
    }
    await seedApprovalLimits(t.deps.database.db);
    const none = await post('/api/v1/loan/loan/approve', t.adminToken, { application_id: above });
    assert.equal(none.statusCode, 403, none.body);
    assert.equal(none.json().error_code, 'LOAN_APPROVAL_NOT_PERMITTED');
    const [row] = await t.deps.database.db
      .select()
      .from(loanApplications)
      .where(eq(loanApplications.id, above));
    assert.equal(row!.status, 'referred');
    const limits = await get('/api/v1/loan/approvallimit/list', officer);
    assert.equal(limits.statusCode, 200, limits.body);
    assert.ok(limits.json().items.some((item: { role_code: string }) => item.role_code === 'loan_officer'));
  });

  test('above the maker-checker amount a second officer approves (202, then the loan exists)', async () => {
    const guarded = await insertLoanProduct(t, { maker_checker_above_minor: '5000000' });
    const customer = await loanCustomer(t, 'Fumo', nextPhone(), { balance: 0 });
    const applicationId = await insertApplication(t, {
      customerId: customer.id,
      product: guarded,
      amountMinor: 6_000_000,
      term: 6,
    });
    const filed = await post('/api/v1/loan/loan/approve', officer, { application_id: applicationId });
    assert.equal(filed.statusCode, 202, filed.body);
    const request = filed.json();
    assert.equal(request.action, 'loan.approve');
    const [before] = await t.deps.database.db
      .select()
      .from(loans)
      .where(eq(loans.applicationId, applicationId));
    assert.equal(before, undefined, 'no loan before the second approval');
    const twice = await post('/api/v1/loan/loan/approve', officer, { application_id: applicationId });
    assert.equal(twice.statusCode, 409, twice.body);
    assert.equal(twice.json().error_code, 'APPROVAL_ALREADY_PENDING');

    const decided = await post('/api/v1/policy/approval/approve', checker, { request_id: request.id });
    assert.equal(decided.statusCode, 200, decided.body);
    assert.equal(decided.json().status, 'approved', decided.body);
    const [loan] = await t.deps.database.db
      .select()
      .from(loans)
      .where(eq(loans.applicationId, applicationId));
    assert.equal(loan!.status, 'approved');
    assert.equal(loan!.principalMinor, 6_000_000n);

    // The checker must be able to approve the amount too: with the role's limit lowered meanwhile, it fails.
    const second = await insertApplication(t, {
      customerId: customer.id,
      product: guarded,
      amountMinor: 6_000_000,
      term: 6,
    });
    const pending = await post('/api/v1/loan/loan/approve', officer, { application_id: second });
    assert.equal(pending.statusCode, 202, pending.body);
    await setLimit('loan_officer', 'KES', 5_500_000);
    try {
      const failed = await post('/api/v1/policy/approval/approve', checker, {
        request_id: pending.json().id,
      });
      assert.equal(failed.statusCode, 200, failed.body);
      assert.equal(failed.json().status, 'failed');
      assert.match(failed.json().error, /LOAN_APPROVAL_LIMIT_EXCEEDED/);
      const [none] = await t.deps.database.db.select().from(loans).where(eq(loans.applicationId, second));
      assert.equal(none, undefined);
    } finally {
      await setLimit('loan_officer', 'KES', 30_000_000);
    }
  });

  test('decline records the reason; a decided application cannot be decided again', async () => {
    const customer = await loanCustomer(t, 'Gathoni', nextPhone(), { balance: 0 });
    const applicationId = await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 1_000_000,
      term: 6,
    });
    const declined = await post('/api/v1/loan/loan/approve', officer, {
      application_id: applicationId,
      decision: 'decline',
      reason: 'Income does not support the instalment',
    });
    assert.equal(declined.statusCode, 200, declined.body);
    assert.equal(declined.json().status, 'declined');
    assert.equal(declined.json().loan, undefined);
    const [row] = await t.deps.database.db
      .select()
      .from(loanApplications)
      .where(eq(loanApplications.id, applicationId));
    assert.equal(row!.status, 'declined');
    assert.equal(row!.declineReasons![0]!.message, 'Income does not support the instalment');
    const again = await post('/api/v1/loan/loan/approve', officer, { application_id: applicationId });
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().error_code, 'LOAN_APPLICATION_NOT_APPROVABLE');
    const missing = await post('/api/v1/loan/loan/approve', officer, { application_id: randomUUID() });
    assert.equal(missing.statusCode, 404, missing.body);
  });

  test('the pipeline’s automatic approval (the LoanApprover port) creates the loan once', async () => {
    const customer = await loanCustomer(t, 'Lulu', nextPhone(), { balance: 0 });
    const applicationId = await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 800_000,
      term: 4,
    });
    const api = t.application.system.api(loansModule);
    const first = await api.accounts.approveApplication(applicationId, SYSTEM, systemContext());
    const again = await api.accounts.approveApplication(applicationId, SYSTEM, systemContext());
    assert.equal(again.loan_id, first.loan_id, 'a retry returns the same loan');
    const view = (await get(`/api/v1/loan/loan/${first.loan_id}`, customer.token)).json();
    assert.equal(view.status, 'approved');
    assert.equal(view.approved_by_id, 'system');
    // The pipeline announces the decision itself once the port returns.
    assert.deepEqual(await eventsOf(t.deps.database.db, 'loan_application', applicationId), []);
    const declined = await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 800_000,
      term: 4,
      status: 'declined',
    });
    await assert.rejects(api.accounts.approveApplication(declined, SYSTEM, systemContext()), {
      errorCode: 'LOAN_APPLICATION_NOT_APPROVABLE',
    });
  });

  test('a submitted application is decided by hand only after its fraud flag was cleared', async () => {
    const customer = await loanCustomer(t, 'Kesi', nextPhone(), { balance: 0 });
    const applicationId = await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 1_000_000,
      term: 3,
      status: 'submitted',
    });
    const early = await post('/api/v1/loan/loan/approve', officer, { application_id: applicationId });
    assert.equal(early.statusCode, 409, early.body);
    assert.equal(early.json().error_code, 'LOAN_APPLICATION_NOT_APPROVABLE');
    await t.deps.database.db.insert(loanFraudFlags).values({
      id: randomUUID(),
      applicationId,
      checkId: randomUUID(),
      score: 120,
      threshold: 100,
      status: 'cleared',
      decisionReason: 'The phone is the applicant’s',
    });
    const approvedNow = await post('/api/v1/loan/loan/approve', officer, { application_id: applicationId });
    assert.equal(approvedNow.statusCode, 200, approvedNow.body);
    assert.equal(approvedNow.json().loan.status, 'approved');
  });

  test('customers see only their own loans; another customer’s answers 404', async () => {
    const owner = await loanCustomer(t, 'Halima', nextPhone(), { balance: 0 });
    const other = await loanCustomer(t, 'Imani', nextPhone(), { balance: 0 });
    const { loan } = await approved(owner, 1_500_000, { term: 3 });
    assert.equal((await disburse(loan.id)).statusCode, 200);

    assert.equal((await get(`/api/v1/loan/loan/${loan.id}`, owner.token)).statusCode, 200);
    for (const path of ['', '/schedule', '/transactions', '/statement.pdf']) {
      const response = await get(`/api/v1/loan/loan/${loan.id}${path}`, other.token);
      assert.equal(response.statusCode, 404, `${path}: ${response.body}`);
      assert.equal(response.json().error_code, 'LOAN_NOT_FOUND');
    }
    const mine = await get('/api/v1/loan/my', owner.token);
    assert.equal(mine.statusCode, 200, mine.body);
    assert.deepEqual(
      mine.json().items.map((item: { id: string }) => item.id),
      [loan.id],
    );
    assert.deepEqual((await get('/api/v1/loan/my', other.token)).json().items, []);
    assert.equal((await get('/api/v1/loan/my', officer)).statusCode, 404, 'staff use the list');
    // A customer naming another customer in the list filter gets 404, as on every list (never an empty page).
    const listed = await get(`/api/v1/loan/loan/list?customer_id=${owner.id}`, other.token);
    assert.equal(listed.statusCode, 404, listed.body);
    assert.equal(listed.json().error_code, 'NOT_FOUND');
    const staff = await get(`/api/v1/loan/loan/list?customer_id=${owner.id}&status=active`, officer);
    assert.deepEqual(
      staff.json().items.map((item: { id: string }) => item.id),
      [loan.id],
    );

    const pdf = await get(`/api/v1/loan/loan/${loan.id}/statement.pdf`, owner.token);
    assert.equal(pdf.statusCode, 200, pdf.body);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
  });

  test('staff list pages with a cursor', async () => {
    const customer = await loanCustomer(t, 'Jabari', nextPhone(), { balance: 0 });
    const ids = [];
    for (let index = 0; index < 3; index += 1)
      ids.push((await approved(customer, 1_000_000, { term: 3 })).loan.id);
    const first = await get(`/api/v1/loan/loan/list?customer_id=${customer.id}&limit=2`, officer);
    assert.equal(first.statusCode, 200, first.body);
    const page = first.json();
    assert.equal(page.items.length, 2);
    assert.ok(page.next_cursor);
    const second = await get(
      `/api/v1/loan/loan/list?customer_id=${customer.id}&limit=2&cursor=${page.next_cursor}`,
      officer,
    );
    const all = [...page.items, ...second.json().items].map((item: { id: string }) => item.id);
    assert.deepEqual(all, [...ids].reverse());
  });
});
