/**
 * Collections over HTTP: close of business opens a case for an overdue loan; staff assign, annotate, record promises
 * to pay (kept when paid, broken when missed) and close cases; reschedule and write-off wait for a second staff
 * member; recovery after a write-off from the wallet (idempotent, never overdrawn) or in cash; the portfolio summary;
 * the ledger verifies clean and each loan's accounts equal its instalments throughout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asc, eq, sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  insertLoanProduct,
  type LoanCustomer,
  loanCustomer,
  staffToken,
  type TestProduct,
} from '../../../test/helpers/loans.ts';
import { insertActiveLoan, loanLedgerOf, loansApi, payInstalment } from '../../../test/helpers/loans-cob.ts';
import { balanceOf, idempotent } from '../../../test/helpers/money.ts';
import { rawRows } from '../../platform/db.ts';
import { verifyLedger } from '../ledger/index.ts';
import { addDays } from './loans.calendar.ts';
import { loanHouseCode } from './loans.ledger.ts';
import { loanInstalments, loans } from './loans.tables.ts';

describe('collections', () => {
  let t: TestContext;
  let customer: LoanCustomer;
  let product: TestProduct;
  let officer: string;
  const today = new Date().toISOString().slice(0, 10);
  const loan: Record<'rescheduled' | 'writtenOff' | 'late', { id: string; number: string }> = {} as never;

  const post = (url: string, payload: object, token = t.adminToken) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), payload });
  const get = (url: string, token = t.adminToken) =>
    t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const caseOf = async (loanId: string) =>
    (await get(`/api/v1/loan/collectioncase?loan_id=${loanId}`)).json().items[0];

  /** Each loan's four accounts equal what its instalments still owe. */
  async function assertLoanMatchesLedger(loanId: string) {
    const db = t.deps.database.db;
    const [row] = await db.select().from(loans).where(eq(loans.id, loanId));
    const rows = await db
      .select()
      .from(loanInstalments)
      .where(eq(loanInstalments.loanId, loanId))
      .orderBy(asc(loanInstalments.seq));
    const sum = (f: (r: (typeof rows)[number]) => bigint) => rows.reduce((total, r) => total + f(r), 0n);
    const outstanding = await loanLedgerOf(t).loanOutstanding(db, row!);
    assert.deepEqual(
      [outstanding.principal, outstanding.interest, outstanding.fee, outstanding.penalty],
      [
        sum((r) => r.principalDue - r.principalPaid),
        sum((r) => (r.interestAccrued > r.interestPaid ? r.interestAccrued - r.interestPaid : 0n)),
        sum((r) => r.feeDue - r.feePaid),
        sum((r) => r.penaltyDue - r.penaltyPaid),
      ],
    );
  }

  before(async () => {
    t = await startTestApp({}, { startJobs: true });
    customer = await loanCustomer(t, 'Collect', '+254700100301', { balance: 300_000 });
    product = await insertLoanProduct(t);
    officer = await staffToken(t, 'collector1', ['loan_officer']);
    const start = addDays(today, -100);
    loan.late = await insertActiveLoan(t, {
      customer,
      product,
      principal: 900_000n,
      term: 6,
      disbursedOn: start,
    });
    loan.rescheduled = await insertActiveLoan(t, {
      customer,
      product,
      principal: 1_000_000n,
      term: 6,
      disbursedOn: addDays(today, -70),
    });
    loan.writtenOff = await insertActiveLoan(t, {
      customer,
      product,
      principal: 500_000n,
      term: 3,
      disbursedOn: addDays(today, -70),
    });
    for (let day = addDays(start, 1); day < today; day = addDays(day, 1)) await loansApi(t).cob.runCob(day);
  });
  after(async () => t?.close());

  it('opens a case for each overdue loan; staff assign and annotate it', async () => {
    const list = await get('/api/v1/loan/collectioncase?status=open');
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(list.json().items.length, 3);
    const found = await caseOf(loan.late.id);
    assert.equal(found.loan_number, loan.late.number);
    assert.ok(found.days_past_due > 30);
    const me = (await get('/api/v1/auth/me', officer)).json();
    const assigned = await post('/api/v1/loan/collectioncase/assign', {
      case_id: found.id,
      assignee_id: me.id,
    });
    assert.equal(assigned.statusCode, 200, assigned.body);
    assert.equal(assigned.json().assignee_id, me.id);
    const nobody = await post('/api/v1/loan/collectioncase/assign', {
      case_id: found.id,
      assignee_id: '01a24ef2-0000-7000-8000-000000000000',
    });
    assert.equal(nobody.statusCode, 404, nobody.body);
    const noted = await post(
      '/api/v1/loan/collectioncase/note',
      { case_id: found.id, text: 'Called; will pay Friday' },
      officer,
    );
    assert.equal(noted.statusCode, 200, noted.body);
    assert.equal(noted.json().notes[0].text, 'Called; will pay Friday');
    const customerView = await get('/api/v1/loan/collectioncase', customer.token);
    assert.equal(customerView.statusCode, 403);
    assert.equal(
      (await get('/api/v1/loan/collectioncase/01a24ef2-0000-7000-8000-000000000000')).statusCode,
      404,
    );
  });

  it('settles promises to pay at close of business: kept when paid, broken when missed', async () => {
    const late = await caseOf(loan.late.id);
    const other = await caseOf(loan.rescheduled.id);
    const past = await post('/api/v1/loan/collectioncase/promise', {
      case_id: late.id,
      promised_on: addDays(today, -1),
      amount_minor: 1000,
    });
    assert.equal(past.statusCode, 422, past.body);
    const kept = await post('/api/v1/loan/collectioncase/promise', {
      case_id: late.id,
      promised_on: today,
      amount_minor: 50_000,
    });
    assert.equal(kept.statusCode, 201, kept.body);
    assert.equal(kept.json().status, 'pending');
    const broken = await post('/api/v1/loan/collectioncase/promise', {
      case_id: other.id,
      promised_on: today,
      amount_minor: 10_000,
    });
    assert.equal(broken.statusCode, 201, broken.body);
    const tomorrow = await post('/api/v1/loan/collectioncase/promise', {
      case_id: late.id,
      promised_on: addDays(today, 1),
      amount_minor: 5_000_000,
    });
    assert.equal(tomorrow.statusCode, 201, tomorrow.body);
    await payInstalment(t, loan.late.id, 1, today);
    const run = await loansApi(t).cob.runCob(today);
    assert.equal(run.status, 'completed');
    const lateCase = (await get(`/api/v1/loan/collectioncase/${late.id}`)).json();
    assert.equal(lateCase.promises[0].status, 'kept');
    assert.ok(lateCase.promises[0].paid_minor >= 50_000);
    const otherCase = (await get(`/api/v1/loan/collectioncase/${other.id}`)).json();
    assert.equal(otherCase.promises[0].status, 'broken');
    const reminded = lateCase.promises.find((promise: { id: string }) => promise.id === tomorrow.json().id);
    assert.equal(reminded.status, 'pending');
    assert.equal(reminded.reminded_on, today);
    const [message] = await rawRows<{ body: string }>(
      t.deps.database.db,
      sql`select body from notifications where template_code = 'loan.promise.reminder'`,
    );
    assert.match(message!.body, new RegExp(loan.late.number));
    await assertLoanMatchesLedger(loan.late.id);
  });

  it('reschedules an overdue loan once a second staff member approves', async () => {
    const filed = await post('/api/v1/loan/loan/reschedule', {
      loan_id: loan.rescheduled.id,
      term: 12,
      annual_rate: '10',
      reason: 'Lost income for two months',
    });
    assert.equal(filed.statusCode, 202, filed.body);
    const again = await post('/api/v1/loan/loan/reschedule', {
      loan_id: loan.rescheduled.id,
      term: 6,
      reason: 'x',
    });
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(
      (await post('/api/v1/loan/loan/reschedule', { loan_id: loan.rescheduled.id, term: 0, reason: 'x' }))
        .statusCode,
      422,
    );
    const approved = await post('/api/v1/policy/approval/approve', { request_id: filed.json().id }, officer);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved', approved.body);
    const db = t.deps.database.db;
    const rows = await db
      .select()
      .from(loanInstalments)
      .where(eq(loanInstalments.loanId, loan.rescheduled.id))
      .orderBy(asc(loanInstalments.seq));
    assert.equal(rows.length, 12);
    assert.ok(rows.every((row) => row.dueDate > today && row.status === 'pending'));
    const [row] = await db.select().from(loans).where(eq(loans.id, loan.rescheduled.id));
    assert.equal(row!.terms.annual_rate, '10');
    assert.ok(rows[0]!.penaltyDue > 0n, 'the penalties fall due with the first new instalment');
    await assertLoanMatchesLedger(loan.rescheduled.id);
  });

  it('writes a loan off with approval, then records recoveries from the wallet and in cash', async () => {
    const db = t.deps.database.db;
    const ledger = loanLedgerOf(t);
    const [before] = await db.select().from(loans).where(eq(loans.id, loan.writtenOff.id));
    const owed = await ledger.loanOutstanding(db, before!);
    assert.ok(owed.interest > 0n && owed.penalty > 0n);
    const early = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/loan/recovery',
      headers: idempotent(t.adminToken),
      payload: { loan_id: loan.writtenOff.id, amount_minor: 100, source: 'cash' },
    });
    assert.equal(early.statusCode, 409, early.body);
    const filed = await post('/api/v1/loan/loan/write-off', {
      loan_id: loan.writtenOff.id,
      reason: 'Uncollectable',
    });
    assert.equal(filed.statusCode, 202, filed.body);
    const approved = await post('/api/v1/policy/approval/approve', { request_id: filed.json().id }, officer);
    assert.equal(approved.json().status, 'approved', approved.body);
    const [after] = await db.select().from(loans).where(eq(loans.id, loan.writtenOff.id));
    assert.equal(after!.status, 'written_off');
    assert.equal((await ledger.loanOutstanding(db, after!)).total, 0n);
    const expense = await ledger.ledger.houseAccount(loanHouseCode('write_off_expense', product.code, 'KES'));
    assert.equal((await ledger.ledger.balance(expense)).balance, owed.total);
    assert.equal((await caseOf(loan.writtenOff.id)).status, 'closed');
    const twice = await post('/api/v1/loan/loan/write-off', { loan_id: loan.writtenOff.id, reason: 'again' });
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().error_code, 'LOAN_WRONG_STATE');

    const wallet = await balanceOf(t, customer.wallet.id);
    const headers = idempotent(t.adminToken);
    const body = { loan_id: loan.writtenOff.id, amount_minor: 100_000, source: 'wallet' };
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/loan/recovery',
      headers,
      payload: body,
    });
    assert.equal(first.statusCode, 201, first.body);
    const replay = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/loan/recovery',
      headers,
      payload: body,
    });
    assert.equal(replay.body, first.body);
    assert.equal((await balanceOf(t, customer.wallet.id)).balance, wallet.balance - 100_000);
    const short = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/loan/recovery',
      headers: idempotent(t.adminToken),
      payload: { ...body, amount_minor: wallet.balance },
    });
    assert.equal(short.statusCode, 409, short.body);
    assert.equal(short.json().error_code, 'LOAN_RECOVERY_INSUFFICIENT_FUNDS');
    const tooMuch = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/loan/recovery',
      headers: idempotent(t.adminToken),
      payload: { ...body, source: 'cash', amount_minor: Number(owed.total) },
    });
    assert.equal(tooMuch.statusCode, 422, tooMuch.body);
    const cash = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/loan/recovery',
      headers: idempotent(t.adminToken),
      payload: { ...body, source: 'cash', amount_minor: 50_000, external_reference: 'RCPT-1' },
    });
    assert.equal(cash.statusCode, 201, cash.body);
    assert.equal(cash.json().recovered_minor, 150_000);
    const income = await ledger.ledger.houseAccount(loanHouseCode('recovery_income', product.code, 'KES'));
    assert.equal((await ledger.ledger.balance(income)).balance, 150_000n);
    const verification = await verifyLedger(db);
    assert.equal(verification.ok, true, JSON.stringify(verification));
  });

  it('closes a case; a closed case takes no assignment or promise', async () => {
    const open = await caseOf(loan.late.id);
    const closed = await post('/api/v1/loan/collectioncase/close', {
      case_id: open.id,
      reason: 'Handed to agency',
    });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json().status, 'closed');
    const me = (await get('/api/v1/auth/me', officer)).json();
    const assign = await post('/api/v1/loan/collectioncase/assign', { case_id: open.id, assignee_id: me.id });
    assert.equal(assign.statusCode, 409);
    assert.equal(assign.json().error_code, 'LOAN_CASE_CLOSED');
    const promise = await post('/api/v1/loan/collectioncase/promise', {
      case_id: open.id,
      promised_on: today,
      amount_minor: 100,
    });
    assert.equal(promise.statusCode, 409);
    // The next close: staff closed this spell's case, so none reopens; the rescheduled loan is cured.
    const cob = loansApi(t).cob;
    assert.equal(await cob.closeLoan(loan.late.id, addDays(today, 1)), true);
    assert.equal(await cob.closeLoan(loan.rescheduled.id, addDays(today, 1)), true);
    const cases = (await get(`/api/v1/loan/collectioncase?loan_id=${loan.late.id}`)).json().items;
    assert.equal(cases.length, 1);
    const cured = await caseOf(loan.rescheduled.id);
    assert.equal(cured.status, 'closed');
    assert.equal(cured.close_reason, 'cured');
    const [rescheduled] = await t.deps.database.db
      .select()
      .from(loans)
      .where(eq(loans.id, loan.rescheduled.id));
    assert.equal(rescheduled!.daysPastDue, 0);
    assert.equal(rescheduled!.arrearsBucket, 'current');
  });

  it('sums the portfolio: outstanding, PAR and flows', async () => {
    const response = await get('/api/v1/loan/portfolio/summary?currency=KES&period=month');
    assert.equal(response.statusCode, 200, response.body);
    const kes = response.json().currencies[0];
    assert.equal(kes.currency, 'KES');
    assert.equal(kes.active_loans, 2);
    const db = t.deps.database.db;
    const ledger = loanLedgerOf(t);
    let principal = 0n;
    for (const id of [loan.late.id, loan.rescheduled.id]) {
      const [row] = await db.select().from(loans).where(eq(loans.id, id));
      principal += (await ledger.loanOutstanding(db, row!)).principal;
    }
    assert.equal(BigInt(kes.outstanding.principal_minor), principal);
    const par30 = kes.par.find((entry: { days: number }) => entry.days === 30);
    assert.equal(par30.loans, 1);
    const flows = kes.flows as {
      disbursed_minor: number;
      collected_minor: number;
      recovered_minor: number;
    }[];
    assert.equal(
      flows.reduce((total, flow) => total + flow.disbursed_minor, 0),
      2_400_000,
    );
    assert.equal(
      flows.reduce((total, flow) => total + flow.recovered_minor, 0),
      150_000,
    );
    assert.equal((await get('/api/v1/loan/portfolio/summary', customer.token)).statusCode, 403);
    assert.equal((await get('/api/v1/loan/portfolio/summary?from=2025-13-01')).statusCode, 422);
    const badDate = await post('/api/v1/loan/cob/run', { business_date: '2025-02-30' });
    assert.equal(badDate.statusCode, 422, badDate.body);
    assert.equal(badDate.json().error_code, 'VALIDATION_ERROR');
  });
});
