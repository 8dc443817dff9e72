/**
 * Close of business with several loans in flight at once ends exactly where one loan at a time ends: the same
 * portfolio (40 loans over four products sharing house accounts, payments, arrears, penalties, reminders and
 * collection cases) is built in two databases and closed day by day, once with concurrency 1 and once with 8 (small
 * batches, so several batches run), and every table close of business touches compares equal once ids, loan numbers
 * and timestamps (which differ between two databases) are replaced by what they stand for.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { insertLoanProduct, loanCustomer } from '../../../test/helpers/loans.ts';
import { insertActiveLoan, loanLedgerOf, loansApi, payInstalment } from '../../../test/helpers/loans-cob.ts';
import { rawRows } from '../../platform/db.ts';
import { verifyLedger } from '../ledger/index.ts';
import { notificationsModule } from '../notifications/index.ts';
import { addDays } from './loans.calendar.ts';
import { CloseOfBusiness } from './loans.cob.ts';
import { cobConcurrency } from './loans.cob.wiring.ts';
import { generateSchedule } from './loans.schedule.ts';
import type { ProductTerms } from './loans.terms.ts';

const LOANS = Number(process.env.COB_CONC_LOANS ?? 40);
const DAYS = Number(process.env.COB_CONC_DAYS ?? 45);
const PRODUCTS: { code: string; terms: Partial<ProductTerms> }[] = [
  { code: 'conc-monthly', terms: {} },
  {
    code: 'conc-weekly-daily',
    terms: {
      frequency: 'weekly',
      interest_method: 'declining_equal_principal',
      interest_calculation: 'daily',
      annual_rate: '18',
      late_penalty: { type: 'fixed', value: '5000', after_days: 0 },
    },
  },
  {
    code: 'conc-weekly-flat',
    terms: {
      frequency: 'weekly',
      interest_method: 'flat',
      annual_rate: '24',
      late_penalty: { type: 'percent', value: '2.5', after_days: 2 },
    },
  },
  {
    code: 'conc-biweekly-daily',
    terms: { frequency: 'biweekly', interest_calculation: 'daily', annual_rate: '15', late_penalty: null },
  },
];

/**
 * What each table close of business touches holds. Jobs run (notifications queue delivery jobs), so a notification's
 * delivery columns and when the ledger rolls deferred deltas into a house account vary from run to run: notifications
 * compare by content, ledger accounts by posted plus not yet rolled-up deltas.
 */
const TABLES: Record<string, string> = {
  loans: 'loans',
  loan_instalments: 'loan_instalments',
  loan_transactions: 'loan_transactions',
  loan_interest_earned: 'loan_interest_earned',
  loan_reminders_sent: 'loan_reminders_sent',
  loan_collection_cases: 'loan_collection_cases',
  loan_promises_to_pay: 'loan_promises_to_pay',
  loan_cob_runs: 'loan_cob_runs',
  ledger_accounts: `(select a.id, a.code, a.name, a.currency, a.kind, a.deferred,
      a.debits_posted + coalesce((select sum(d.debits) from ledger_deferred_deltas d where d.account_id = a.id), 0) as debits,
      a.credits_posted + coalesce((select sum(d.credits) from ledger_deferred_deltas d where d.account_id = a.id), 0) as credits
    from ledger_accounts a)`,
  ledger_batches: 'ledger_batches',
  ledger_transfers: 'ledger_transfers',
  ledger_entries: 'ledger_entries',
  notifications: `(select recipient_type, recipient_id, channel, category, template_code, language, subject, body,
      variables, data, dedupe_key, created_by_type from notifications)`,
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/g;

/**
 * Every row of the tables close of business touches, with loan ids and numbers replaced by the loan's position (by
 * creation), ledger account ids by their (so normalised) code, other ids dropped and timestamps blanked; rows sorted
 * by their text, since the order in which concurrent loans inserted them is not part of the end state.
 */
async function normalisedState(t: TestContext): Promise<Record<string, string[]>> {
  const db = t.deps.database.db;
  const loanRows = await rawRows<{ id: string; number: string }>(
    db,
    sql`select id, number from loans order by id`,
  );
  const names = new Map<string, string>();
  loanRows.forEach((row, index) => {
    names.set(row.id, `loan#${index}`);
    names.set(row.number, `LN#${index}`);
  });
  const rename = (text: string) => {
    let out = text;
    for (const row of loanRows) out = out.replaceAll(row.number, names.get(row.number)!);
    return out;
  };
  const accounts = await rawRows<{ id: string; code: string | null; name: string }>(
    db,
    sql`select id, code, name from ledger_accounts`,
  );
  for (const account of accounts) names.set(account.id, `account:${rename(account.code ?? account.name)}`);
  const value = (input: unknown): unknown => {
    if (typeof input === 'string')
      return rename(input)
        .replace(UUID, (id) => names.get(id) ?? '<id>')
        .replace(TIMESTAMP, '<time>')
        .replace(/\bLC\d{10}\b/g, '<case number>');
    if (Array.isArray(input)) return input.map(value);
    if (input && typeof input === 'object')
      return Object.fromEntries(
        Object.entries(input)
          .filter(([key]) => key !== 'id' && key !== 'number' && !key.endsWith('_at'))
          .map(([key, inner]) => [key, value(inner)]),
      );
    return input;
  };
  const state: Record<string, string[]> = {};
  for (const [table, source] of Object.entries(TABLES)) {
    const rows = await rawRows<{ row: unknown }>(
      db,
      sql.raw(`select row_to_json(x) as row from ${source} x`),
    );
    state[table] = rows
      .map((r) => JSON.stringify(value(typeof r.row === 'string' ? JSON.parse(r.row) : r.row)))
      .sort();
  }
  return state;
}

/** The same portfolio in a fresh database, closed for DAYS days `concurrency` loans at a time. */
async function closePortfolio(concurrency: number, apps: TestContext[]): Promise<Record<string, string[]>> {
  const t = await startTestApp({}, { startJobs: true });
  apps.push(t);
  const start = addDays(new Date().toISOString().slice(0, 10), -(DAYS + 3));
  const customer = await loanCustomer(t, 'Concurrent', '+254700100391');
  const products = [];
  for (const { code, terms } of PRODUCTS) products.push(await insertLoanProduct(t, terms, { code }));
  const book: { id: string; payDates: Map<string, number> }[] = [];
  for (let i = 0; i < LOANS; i++) {
    const product = products[i % products.length]!;
    const principal = 200_000n + BigInt(i) * 13_579n;
    const term = 6 + (i % 5);
    const loan = await insertActiveLoan(t, { customer, product, principal, term, disbursedOn: start });
    // Every third loan pays its first two instalments on their due dates; the rest fall into arrears.
    const payDates = new Map<string, number>();
    if (i % 3 === 0)
      for (const line of generateSchedule({
        principal,
        currency: product.currency,
        term,
        terms: product.terms,
        disbursedOn: start,
      }).slice(0, 2))
        payDates.set(line.due_date, line.seq);
    book.push({ id: loan.id, payDates });
  }
  const api = loansApi(t);
  const cob = new CloseOfBusiness({
    db: t.deps.database.db,
    ledger: loanLedgerOf(t),
    notifications: t.application.system.api(notificationsModule).service,
    collections: api.collections,
    batchSize: 16,
    concurrency,
  });
  for (let day = addDays(start, 1); day <= addDays(start, DAYS); day = addDays(day, 1)) {
    for (const loan of book) {
      const seq = loan.payDates.get(day);
      if (seq !== undefined) await payInstalment(t, loan.id, seq, day);
    }
    const run = await cob.runCob(day);
    assert.equal(run.status, 'completed', JSON.stringify(run.failures));
    assert.equal(run.batches, Math.ceil(LOANS / 16));
  }
  assert.equal((await verifyLedger(t.deps.database.db)).ok, true);
  return normalisedState(t);
}

describe('close of business with loans in flight at once', { timeout: 600_000 }, () => {
  const apps: TestContext[] = [];
  after(async () => {
    for (const t of apps) await t.close();
  });

  it('takes its concurrency from the pool size, and 1 on the embedded database', () => {
    assert.equal(cobConcurrency('postgres', 10, undefined), 8);
    assert.equal(cobConcurrency('postgres', 2, undefined), 1);
    assert.equal(cobConcurrency('postgres', 10, 4), 4);
    assert.equal(cobConcurrency('pglite', 1, undefined), 1);
    assert.equal(cobConcurrency('pglite', 1, 8), 1);
  });

  it('ends in the same state with 8 loans at once as with one at a time', async () => {
    const serial = await closePortfolio(1, apps);
    const concurrent = await closePortfolio(8, apps);
    // The portfolio moved: interest, penalties, overdue instalments, collection cases.
    assert.ok(serial.loan_interest_earned!.length > 0);
    assert.ok(serial.loan_transactions!.some((row) => row.includes('"penalty')));
    assert.ok(serial.loan_collection_cases!.length > 0);
    for (const table of Object.keys(TABLES))
      assert.deepEqual(concurrent[table], serial[table], `${table} differs`);
  });
});
