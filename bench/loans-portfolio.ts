/**
 * A loan portfolio as the day before business date D left it, in bulk SQL (multi-row `unnest` inserts of 5,000 loans
 * at a time, so the orchestrator's memory does not grow with the portfolio): four products (both interest
 * calculations, monthly/weekly/two-weekly, annuity, flat and equal principal, fixed and percent penalties), customers
 * with funded wallets (bench/lib/seed.ts), and per loan: an approved application, the loan row (terms copied from
 * the product version, `last_cob_date` = D-1), its instalments from the real `generateSchedule`, its four ledger
 * accounts (the codes, kind and guard `LoanLedger.createLoanAccounts` gives them), their balances by real postings
 * (`ledger_post`: principal outstanding against the customer's wallet, recognised-unpaid interest, fee and penalty
 * against the product's income house accounts), daily products' earned interest, and an open collection case for
 * every loan already in arrears.
 *
 * The mix: ~80 % of the loans have paid every instalment due before D; ~20 % have 1 to 6 of the latest unpaid
 * (some part-paid), with the late penalty applied where its days have passed (so some cross the threshold on D, some
 * reach 90+). Close of business on D then does one ordinary day: a day's interest on the daily loans, interest on
 * the per-period instalments due on D, new overdues, penalties, arrears buckets, reminders, collection cases.
 */
import type pg from 'pg';
import type { LedgerService } from '../src/modules/ledger/index.ts';
import { addDays, daysBetween } from '../src/modules/loans/loans.calendar.ts';
import { type InstalmentRow, latePenalty } from '../src/modules/loans/loans.cob.loan.ts';
import { LoanLedger } from '../src/modules/loans/loans.ledger.ts';
import { dailyInterest, generateSchedule, type ScheduleLine } from '../src/modules/loans/loans.schedule.ts';
import { bucketOf, type ProductTerms } from '../src/modules/loans/loans.terms.ts';
import { type Executor, inTransaction } from '../src/platform/db.ts';
import { luhnCheckDigit, uuidv7 } from '../src/platform/ids.ts';
import type { SeededCustomer } from './lib/seed.ts';
import { type SeedLoan, writeChunk } from './loans-portfolio-sql.ts';
import { BENCH_PRODUCTS, type BenchProduct, insertProducts, PRINCIPALS } from './loans-products.ts';
import { random } from './loans-setup.ts';

const CHUNK = 5000;
const LEGS_PER_POSTING = 1000;

export interface PortfolioFacts {
  loans: number;
  instalments: number;
  inArrears: number;
  byProduct: Record<string, number>;
  byBucket: Record<string, number>;
  dailyLoans: number;
  seconds: number;
}

function numbered(prefix: string, index: number): string {
  const body = `9${String(index).padStart(8, '0')}`;
  return `${prefix}${body}${luhnCheckDigit(body)}`;
}

function pickProduct(r: number): BenchProduct {
  let sum = 0;
  for (const product of BENCH_PRODUCTS) {
    sum += product.weight;
    if (r < sum) return product;
  }
  return BENCH_PRODUCTS.at(-1)!;
}

/** One loan disbursed before D, with its history up to D-1. */
function makeLoan(
  index: number,
  rnd: () => number,
  customers: SeededCustomer[],
  products: Map<string, { id: string; code: string; terms: ProductTerms }>,
  businessDate: string,
  schedules: Map<string, ScheduleLine[]>,
): SeedLoan {
  const spec = pickProduct(rnd());
  const product = products.get(spec.code)!;
  const terms = spec.terms;
  const term = spec.termChoices[Math.floor(rnd() * spec.termChoices.length)]!;
  const principal = PRINCIPALS[Math.floor(rnd() * PRINCIPALS.length)]!;
  const yesterday = addDays(businessDate, -1);
  const span = { monthly: 30, biweekly: 14, weekly: 7, daily: 1 }[terms.frequency] * term;
  // Disbursed 1 … span-1 days before D, so the last instalment is still ahead (an active loan).
  let age = 1 + Math.floor(rnd() * Math.max(1, span - 2));
  let lines: ScheduleLine[] = [];
  for (;;) {
    const disbursedOn = addDays(businessDate, -age);
    const key = `${spec.code}|${principal}|${term}|${disbursedOn}`;
    lines = schedules.get(key) ?? generateSchedule({ principal, currency: 'KES', term, terms, disbursedOn });
    if (schedules.size < 50_000) schedules.set(key, lines);
    if (lines.at(-1)!.due_date >= businessDate || age <= 1) break;
    age = Math.max(1, Math.floor(age / 2));
  }
  const disbursedOn = addDays(businessDate, -age);
  const past = lines.filter((line) => line.due_date < businessDate).length;
  // ~20 % of the loans with something due already are behind: the latest 1–6 instalments unpaid.
  let unpaid = 0;
  if (past > 0 && rnd() < 0.2) {
    const r = rnd();
    unpaid = Math.min(past, r < 0.6 ? 1 : r < 0.85 ? 2 : r < 0.95 ? 3 : 6);
  }
  const daily = terms.interest_calculation === 'daily';
  let outstanding = 0n;
  const rows: InstalmentRow[] = lines.map((line, position) => {
    const isPast = line.due_date < businessDate;
    const paid = isPast && position < past - unpaid;
    const partly = isPast && !paid && rnd() < 0.3;
    const principalPaid = paid ? line.principal_due : partly ? line.principal_due / 2n : 0n;
    outstanding += line.principal_due - principalPaid;
    return {
      loanId: '',
      seq: line.seq,
      dueDate: line.due_date,
      principalDue: line.principal_due,
      interestDue: line.interest_due,
      feeDue: line.fee_due,
      penaltyDue: 0n,
      principalPaid,
      interestPaid: paid || partly ? line.interest_due : 0n,
      feePaid: paid || partly ? line.fee_due : 0n,
      penaltyPaid: 0n,
      interestAccrued: isPast ? line.interest_due : 0n,
      status: paid ? 'paid' : isPast ? 'overdue' : 'pending',
      penaltyAppliedOn: null,
      paidAt: paid ? new Date(`${line.due_date}T09:00:00Z`) : null,
    };
  });
  const earned = new Map<number, bigint>();
  if (daily) {
    for (const row of rows) if (row.dueDate < businessDate) earned.set(row.seq, row.interestDue);
    // The running instalment has earned a day's interest for each day of its period up to D-1.
    const current = rows.find((row) => row.dueDate >= businessDate);
    if (current) {
      const start = current.seq === 1 ? disbursedOn : rows[current.seq - 2]!.dueDate;
      const days = Math.max(0, daysBetween(start, yesterday));
      const sofar = dailyInterest(outstanding, terms, 'KES') * BigInt(days);
      earned.set(current.seq, sofar);
      current.interestAccrued = sofar;
    }
  }
  let oldestUnpaid: string | null = null;
  for (const row of rows) {
    if (row.status !== 'overdue') continue;
    oldestUnpaid ??= row.dueDate;
    const rule = terms.late_penalty;
    if (rule && daysBetween(row.dueDate, yesterday) >= rule.after_days) {
      row.penaltyDue = latePenalty(terms, row);
      row.penaltyAppliedOn = addDays(row.dueDate, rule.after_days);
    }
  }
  const id = uuidv7();
  for (const row of rows) row.loanId = id;
  return {
    id,
    number: numbered('LN', index),
    applicationId: uuidv7(),
    customer: customers[index % customers.length]!,
    product,
    principal,
    term,
    disbursedOn,
    rows,
    earned,
    accounts: { principal: uuidv7(), interest: uuidv7(), fee: uuidv7(), penalty: uuidv7() },
    daysPastDue: oldestUnpaid ? daysBetween(oldestUnpaid, yesterday) : 0,
    oldestUnpaid,
  };
}

/** The balances of the chunk's loan accounts, by real postings (ledger_post), LEGS_PER_POSTING legs at a time. */
async function postBalances(
  db: Executor,
  loanLedger: LoanLedger,
  ledger: LedgerService,
  chunk: SeedLoan[],
  sequence: { next: number },
) {
  const legs: { debit: string; credit: string; amount: bigint; code: string }[] = [];
  for (const loan of chunk) {
    const sum = (pick: (row: InstalmentRow) => bigint) =>
      loan.rows.reduce((total, row) => total + pick(row), 0n);
    const house = (kind: 'interest_income' | 'fee_income' | 'penalty_income') =>
      loanLedger.houseAccount(db, kind, loan.product.code, 'KES');
    const principal = sum((row) => row.principalDue - row.principalPaid);
    const interest = sum((row) => row.interestAccrued - row.interestPaid);
    const fee = sum((row) => row.feeDue - row.feePaid);
    const penalty = sum((row) => row.penaltyDue - row.penaltyPaid);
    if (principal > 0n)
      legs.push({
        debit: loan.accounts.principal,
        credit: loan.customer.walletId,
        amount: principal,
        code: 'principal',
      });
    if (interest > 0n)
      legs.push({
        debit: loan.accounts.interest,
        credit: await house('interest_income'),
        amount: interest,
        code: 'interest',
      });
    if (fee > 0n)
      legs.push({ debit: loan.accounts.fee, credit: await house('fee_income'), amount: fee, code: 'fee' });
    if (penalty > 0n)
      legs.push({
        debit: loan.accounts.penalty,
        credit: await house('penalty_income'),
        amount: penalty,
        code: 'penalty',
      });
  }
  for (let start = 0; start < legs.length; start += LEGS_PER_POSTING) {
    sequence.next += 1;
    await inTransaction(db, (tx) =>
      ledger.post(tx, {
        key: `bench:loans:opening:${sequence.next}`,
        code: 'bench_loan_opening',
        legs: legs.slice(start, start + LEGS_PER_POSTING),
      }),
    );
  }
}

/** Seeds `count` active loans as D-1's close of business left them. */
export async function seedPortfolio(
  pool: pg.Pool,
  db: Executor,
  ledger: LedgerService,
  options: {
    count: number;
    customers: SeededCustomer[];
    businessDate: string;
    seed?: number;
    log?: (text: string) => void;
  },
): Promise<PortfolioFacts> {
  const started = Date.now();
  const products = await insertProducts(pool);
  const loanLedger = new LoanLedger(ledger);
  for (const product of products.values()) await loanLedger.ensureHouseAccounts(db, product.code, 'KES');
  const rnd = random(options.seed ?? 16);
  const schedules = new Map<string, ScheduleLine[]>();
  const facts: PortfolioFacts = {
    loans: 0,
    instalments: 0,
    inArrears: 0,
    byProduct: {},
    byBucket: {},
    dailyLoans: 0,
    seconds: 0,
  };
  const sequence = { next: 0 };
  for (let start = 0; start < options.count; start += CHUNK) {
    const chunk: SeedLoan[] = [];
    for (let index = start; index < Math.min(options.count, start + CHUNK); index += 1)
      chunk.push(makeLoan(index, rnd, options.customers, products, options.businessDate, schedules));
    const client = await pool.connect();
    try {
      await client.query('begin');
      await writeChunk(client, chunk, options.businessDate);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    await postBalances(db, loanLedger, ledger, chunk, sequence);
    for (const loan of chunk) {
      facts.loans += 1;
      facts.instalments += loan.rows.length;
      if (loan.daysPastDue > 0) facts.inArrears += 1;
      if (loan.product.terms.interest_calculation === 'daily') facts.dailyLoans += 1;
      facts.byProduct[loan.product.code] = (facts.byProduct[loan.product.code] ?? 0) + 1;
      const bucket = bucketOf(loan.daysPastDue);
      facts.byBucket[bucket] = (facts.byBucket[bucket] ?? 0) + 1;
    }
    options.log?.(
      `seeded ${facts.loans.toLocaleString('en-US')} / ${options.count.toLocaleString('en-US')} loans`,
    );
  }
  facts.seconds = (Date.now() - started) / 1000;
  return facts;
}
