/**
 * Close of business, the property: run for each of LOANS_COB_DAYS (default 400) consecutive business dates on
 * a small portfolio (both interest calculations, three interest methods, fixed and percent penalties, interest and
 * principal grace, some instalments paid on their due date and others skipped), the loans, their instalments and
 * their ledger accounts equal a reference computed here with plain loops over `dailyInterest`; and a rerun for a date
 * already closed changes nothing at all (every table close of business touches, the ledger included).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asc, eq } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  insertLoanProduct,
  type LoanCustomer,
  loanCustomer,
  type TestProduct,
} from '../../../test/helpers/loans.ts';
import {
  insertActiveLoan,
  loanLedgerOf,
  loansApi,
  payInstalment,
  snapshot,
  wholeInstalmentPayment,
} from '../../../test/helpers/loans-cob.ts';
import { verifyLedger } from '../ledger/index.ts';
import { addDays, daysBetween } from './loans.calendar.ts';
import { loanHouseCode } from './loans.ledger.ts';
import { applyRatio, percentToRatio } from './loans.schedule.rational.ts';
import { dailyInterest, generateSchedule } from './loans.schedule.ts';
import { loanInstalments, loans } from './loans.tables.ts';
import { bucketOf, type ProductTerms } from './loans.terms.ts';

const DAYS = Number(process.env.LOANS_COB_DAYS ?? 400);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

interface RefRow {
  seq: number;
  due: string;
  pd: bigint;
  id: bigint;
  fd: bigint;
  pend: bigint;
  pp: bigint;
  ip: bigint;
  fp: bigint;
  penp: bigint;
  acc: bigint;
  status: string;
  penaltyOn: string | null;
}

interface RefLoan {
  id: string;
  terms: ProductTerms;
  product: TestProduct;
  accruedThrough: string;
  rows: RefRow[];
  earned: Map<number, bigint>;
  dpd: number;
  pays: Set<number>;
  ledger: {
    principal: bigint;
    interest: bigint;
    penalty: bigint;
    interestIncome: bigint;
    penaltyIncome: bigint;
  };
}

const unpaid = (r: RefRow) => r.pd - r.pp + (r.id - r.ip) + (r.fd - r.fp) + (r.pend - r.penp);

/** The reference: one business date of close of business for one loan, in plain loops. */
function referenceCob(loan: RefLoan, date: string): void {
  const before = loan.rows.map((r) => r.acc);
  if (loan.terms.interest_calculation === 'daily') {
    const grace = loan.terms.grace_interest_periods;
    for (let day = addDays(loan.accruedThrough, 1); day <= date; day = addDays(day, 1)) {
      let outstanding = 0n;
      for (const r of loan.rows) outstanding += r.pd - r.pp;
      let target = loan.rows.find((r) => r.due >= day) ?? loan.rows.at(-1)!;
      if (target.seq <= grace) target = loan.rows[grace]!;
      loan.earned.set(
        target.seq,
        (loan.earned.get(target.seq) ?? 0n) + dailyInterest(outstanding, loan.terms, 'KES'),
      );
    }
    loan.accruedThrough = date;
    for (const r of loan.rows) {
      const own = loan.earned.get(r.seq) ?? 0n;
      r.acc = max(max(own, r.ip), r.acc);
      if (r.due <= date) r.id = max(own, r.ip);
    }
  } else {
    for (const r of loan.rows) if (r.due <= date && r.acc < r.id) r.acc = r.id;
  }
  loan.rows.forEach((r, i) => {
    loan.ledger.interest += r.acc - before[i]!;
    loan.ledger.interestIncome += r.acc - before[i]!;
  });
  let oldest: string | null = null;
  for (const r of loan.rows) {
    if (r.due > date) continue;
    if (unpaid(r) <= 0n) {
      r.status = 'paid';
      continue;
    }
    if (r.due === date) {
      r.status = r.pp + r.ip + r.fp + r.penp > 0n ? 'partially_paid' : 'pending';
      continue;
    }
    r.status = 'overdue';
    oldest ??= r.due;
    const rule = loan.terms.late_penalty;
    if (rule && !r.penaltyOn && daysBetween(r.due, date) >= rule.after_days) {
      const base = r.pd - r.pp + (r.id - r.ip) + (r.fd - r.fp);
      const penalty =
        rule.type === 'fixed' ? BigInt(rule.value) : applyRatio(base, percentToRatio(rule.value));
      r.penaltyOn = date;
      r.pend += penalty;
      loan.ledger.penalty += penalty;
      loan.ledger.penaltyIncome += penalty;
    }
  }
  loan.dpd = oldest ? daysBetween(oldest, date) : 0;
}

/** The reference side of `payInstalment`. */
function referencePay(loan: RefLoan, seq: number): void {
  const r = loan.rows.find((row) => row.seq === seq)!;
  const pay = wholeInstalmentPayment({
    principalDue: r.pd,
    interestDue: r.id,
    feeDue: r.fd,
    penaltyDue: r.pend,
    principalPaid: r.pp,
    interestPaid: r.ip,
    feePaid: r.fp,
    penaltyPaid: r.penp,
    interestAccrued: r.acc,
  });
  loan.ledger.principal -= pay.principal;
  loan.ledger.interest -= pay.fromReceivable;
  loan.ledger.interestIncome += pay.toIncome;
  loan.ledger.penalty -= pay.penalty;
  r.pp = r.pd;
  r.ip = r.id;
  r.fp = r.fd;
  r.penp = r.pend;
  r.acc = max(r.acc, r.id);
  r.status = 'paid';
}

const PORTFOLIO: { terms: Partial<ProductTerms>; principal: bigint; term: number; pays: number[] }[] = [
  // Declining balance, equal instalments, per period, 5 % penalty after 3 days: instalment 3 and 6+ skipped.
  { terms: {}, principal: 1_000_000n, term: 12, pays: [1, 2, 4, 5] },
  // Daily interest, weekly, equal principal, a fixed penalty the day after the due date.
  {
    terms: {
      frequency: 'weekly',
      interest_method: 'declining_equal_principal',
      interest_calculation: 'daily',
      annual_rate: '18',
      late_penalty: { type: 'fixed', value: '5000', after_days: 0 },
    },
    principal: 520_000n,
    term: 26,
    pays: [1, 2, 3, 4, 5, 9, 10],
  },
  // Flat, per period, 24 %, one period of interest grace, 2.5 % after 7 days: never paid.
  {
    terms: {
      interest_method: 'flat',
      annual_rate: '24',
      grace_interest_periods: 1,
      late_penalty: { type: 'percent', value: '2.5', after_days: 7 },
    },
    principal: 600_000n,
    term: 6,
    pays: [],
  },
  // Daily interest, every two weeks, annuity, interest and principal grace, no penalty: paid on time.
  {
    terms: {
      frequency: 'biweekly',
      interest_calculation: 'daily',
      annual_rate: '15',
      grace_interest_periods: 2,
      grace_principal_periods: 1,
      late_penalty: null,
    },
    principal: 800_000n,
    term: 10,
    pays: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  },
];

describe(`close of business over ${DAYS} consecutive days`, () => {
  let t: TestContext;
  let customer: LoanCustomer;
  const book: RefLoan[] = [];
  const start = addDays(new Date().toISOString().slice(0, 10), -(DAYS + 5));
  const last = addDays(start, DAYS);

  before(async () => {
    t = await startTestApp({}, { startJobs: true });
    customer = await loanCustomer(t, 'Cob', '+254700100201');
    for (const entry of PORTFOLIO) {
      const product = await insertLoanProduct(t, entry.terms);
      const loan = await insertActiveLoan(t, {
        customer,
        product,
        principal: entry.principal,
        term: entry.term,
        disbursedOn: start,
      });
      const lines = generateSchedule({
        principal: entry.principal,
        currency: 'KES',
        term: entry.term,
        terms: product.terms,
        disbursedOn: start,
      });
      book.push({
        id: loan.id,
        terms: product.terms,
        product,
        accruedThrough: start,
        earned: new Map(),
        dpd: 0,
        pays: new Set(entry.pays),
        ledger: {
          principal: entry.principal,
          interest: 0n,
          penalty: 0n,
          interestIncome: 0n,
          penaltyIncome: 0n,
        },
        rows: lines.map((line) => ({
          seq: line.seq,
          due: line.due_date,
          pd: line.principal_due,
          id: line.interest_due,
          fd: line.fee_due,
          pend: 0n,
          pp: 0n,
          ip: 0n,
          fp: 0n,
          penp: 0n,
          acc: 0n,
          status: 'pending',
          penaltyOn: null,
        })),
      });
    }
  });
  after(async () => t?.close());

  it('equals the reference computation, day by day', { timeout: 600_000 }, async () => {
    const cob = loansApi(t).cob;
    for (let day = addDays(start, 1); day <= last; day = addDays(day, 1)) {
      for (const loan of book)
        for (const row of loan.rows)
          if (row.due === day && loan.pays.has(row.seq)) {
            await payInstalment(t, loan.id, row.seq, day);
            referencePay(loan, row.seq);
          }
      const run = await cob.runCob(day);
      assert.equal(run.status, 'completed', JSON.stringify(run.failures));
      for (const loan of book) referenceCob(loan, day);
    }
    const db = t.deps.database.db;
    const ledger = loanLedgerOf(t);
    for (const loan of book) {
      const [row] = await db.select().from(loans).where(eq(loans.id, loan.id));
      assert.equal(row!.lastCobDate, last);
      assert.equal(row!.daysPastDue, loan.dpd, `days past due of ${row!.number}`);
      assert.equal(row!.arrearsBucket, bucketOf(loan.dpd));
      const stored = await db
        .select()
        .from(loanInstalments)
        .where(eq(loanInstalments.loanId, loan.id))
        .orderBy(asc(loanInstalments.seq));
      assert.deepEqual(
        stored.map((r) => [
          r.seq,
          r.interestDue,
          r.interestAccrued,
          r.penaltyDue,
          r.penaltyAppliedOn,
          r.status,
        ]),
        loan.rows.map((r) => [r.seq, r.id, r.acc, r.pend, r.penaltyOn, r.status]),
        `instalments of ${row!.number}`,
      );
      const outstanding = await ledger.loanOutstanding(db, row!);
      assert.deepEqual(
        [outstanding.principal, outstanding.interest, outstanding.fee, outstanding.penalty],
        [loan.ledger.principal, loan.ledger.interest, 0n, loan.ledger.penalty],
        `ledger of ${row!.number}`,
      );
      const income = async (kind: 'interest_income' | 'penalty_income') =>
        (
          await ledger.ledger.balance(
            await ledger.ledger.houseAccount(loanHouseCode(kind, loan.product.code, 'KES')),
          )
        ).balance;
      assert.equal(await income('interest_income'), loan.ledger.interestIncome);
      assert.equal(await income('penalty_income'), loan.ledger.penaltyIncome);
    }
    // The portfolio moved: arrears, penalties, interest of both kinds.
    if (DAYS >= 150) {
      assert.ok(book.some((loan) => loan.dpd > 90));
      assert.ok(book.some((loan) => loan.ledger.penaltyIncome > 0n));
    }
    assert.ok(book.every((loan) => loan.ledger.interestIncome > 0n));
    assert.equal((await verifyLedger(db)).ok, true);
  });

  it('a rerun for a date already closed changes nothing', async () => {
    const cob = loansApi(t).cob;
    const first = await snapshot(t);
    const again = await cob.runCob(last);
    assert.equal(again.status, 'completed');
    await cob.runCob(addDays(last, -10));
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/cob/run',
      headers: bearer(t.adminToken),
      payload: { business_date: last },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(await snapshot(t), first);
  });

  it('lists the runs with their progress and refuses a date after today', async () => {
    const runs = await t.app.inject({
      method: 'GET',
      url: '/api/v1/loan/cob/runs?limit=2',
      headers: bearer(t.adminToken),
    });
    assert.equal(runs.statusCode, 200, runs.body);
    const page = runs.json();
    assert.equal(page.items.length, 2);
    assert.equal(page.items[0].business_date, last);
    assert.equal(page.items[0].loans_processed, book.length);
    assert.equal(page.items[0].status, 'completed');
    const next = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/cob/runs?limit=2&cursor=${page.next_cursor}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(next.json().items[0].business_date, addDays(last, -2));
    const future = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/cob/run',
      headers: bearer(t.adminToken),
      payload: { business_date: addDays(new Date().toISOString().slice(0, 10), 1) },
    });
    assert.equal(future.statusCode, 422, future.body);
    assert.equal(future.json().error_code, 'LOAN_COB_FUTURE_DATE');
  });
  it('a loan that fails is named on the run, and the next run for the date closes it', async () => {
    const cob = loansApi(t).cob;
    const db = t.deps.database.db;
    const date = addDays(last, 1);
    const broken = book.find((loan) => loan.terms.interest_calculation === 'daily')!;
    const [row] = await db.select().from(loans).where(eq(loans.id, broken.id));
    await db.update(loans).set({ interestAccountId: null }).where(eq(loans.id, broken.id));
    const failed = await cob.runCob(date);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.loans_processed, book.length - 1);
    assert.deepEqual(
      failed.failures.map((failure) => failure.loan_id),
      [broken.id],
    );
    const [untouched] = await db.select().from(loans).where(eq(loans.id, broken.id));
    assert.equal(untouched!.lastCobDate, last, 'nothing of the failed loan was kept');
    await db.update(loans).set({ interestAccountId: row!.interestAccountId }).where(eq(loans.id, broken.id));
    const resumed = await cob.runCob(date);
    assert.equal(resumed.status, 'completed');
    assert.equal(resumed.loans_processed, book.length);
    assert.deepEqual(resumed.failures, []);
    const [closed] = await db.select().from(loans).where(eq(loans.id, broken.id));
    assert.equal(closed!.lastCobDate, date);
    assert.equal((await verifyLedger(db)).ok, true);
  });
});
