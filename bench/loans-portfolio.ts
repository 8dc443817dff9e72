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
import { LOAN_PARTS, LoanLedger, loanAccountCode } from '../src/modules/loans/loans.ledger.ts';
import { dailyInterest, generateSchedule, type ScheduleLine } from '../src/modules/loans/loans.schedule.ts';
import { bucketOf, DEFAULT_ALLOCATION_ORDER, type ProductTerms } from '../src/modules/loans/loans.terms.ts';
import { type Executor, inTransaction } from '../src/platform/db.ts';
import { luhnCheckDigit, uuidv7 } from '../src/platform/ids.ts';
import type { SeededCustomer } from './lib/seed.ts';
import { random } from './loans-setup.ts';

const BASE: Omit<ProductTerms, 'frequency' | 'interest_method' | 'interest_calculation' | 'annual_rate'> = {
  min_amount_minor: '100000',
  max_amount_minor: '100000000',
  min_term: 1,
  max_term: 52,
  grace_principal_periods: 0,
  grace_interest_periods: 0,
  upfront_fee: null,
  late_penalty: null,
  allocation_order: [...DEFAULT_ALLOCATION_ORDER],
  prepayment: 'reduce_term',
  overpayment: 'future_instalments',
  eligibility: { min_kyc_tier: 'basic', min_wallet_tenure_days: 0, max_active_loans: 3 },
  fraud_threshold: 60,
  auto_approve_limit_minor: '0',
  maker_checker_above_minor: '50000000',
};

export interface BenchProduct {
  code: string;
  terms: ProductTerms;
  /** Instalment counts drawn from. */
  termChoices: number[];
  /** Share of the portfolio. */
  weight: number;
}

export const BENCH_PRODUCTS: BenchProduct[] = [
  {
    code: 'bench-monthly-annuity',
    weight: 0.35,
    termChoices: [6, 12],
    terms: {
      ...BASE,
      frequency: 'monthly',
      interest_method: 'declining_equal_instalments',
      interest_calculation: 'per_period',
      annual_rate: '18',
      upfront_fee: { mode: 'first_instalment', percent: '1' },
      late_penalty: { type: 'percent', value: '5', after_days: 5 },
    },
  },
  {
    code: 'bench-monthly-flat',
    weight: 0.2,
    termChoices: [3, 6],
    terms: {
      ...BASE,
      frequency: 'monthly',
      interest_method: 'flat',
      interest_calculation: 'per_period',
      annual_rate: '24',
      late_penalty: { type: 'fixed', value: '20000', after_days: 3 },
    },
  },
  {
    code: 'bench-weekly-daily',
    weight: 0.3,
    termChoices: [8, 12, 16],
    terms: {
      ...BASE,
      frequency: 'weekly',
      interest_method: 'declining_equal_instalments',
      interest_calculation: 'daily',
      annual_rate: '20',
      late_penalty: { type: 'percent', value: '2', after_days: 3 },
    },
  },
  {
    code: 'bench-biweekly-daily-principal',
    weight: 0.15,
    termChoices: [6, 10],
    terms: {
      ...BASE,
      frequency: 'biweekly',
      interest_method: 'declining_equal_principal',
      interest_calculation: 'daily',
      annual_rate: '16',
      late_penalty: { type: 'fixed', value: '10000', after_days: 7 },
    },
  },
];

const PRINCIPALS = [
  500_000n,
  1_000_000n,
  2_000_000n,
  2_500_000n,
  5_000_000n,
  7_500_000n,
  10_000_000n,
  20_000_000n,
];
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

/** The loan, its instalments as close of business reads them, and its ledger balances. */
interface SeedLoan {
  id: string;
  number: string;
  applicationId: string;
  customer: SeededCustomer;
  product: { id: string; code: string; terms: ProductTerms };
  principal: bigint;
  term: number;
  disbursedOn: string;
  rows: InstalmentRow[];
  earned: Map<number, bigint>;
  accounts: Record<(typeof LOAN_PARTS)[number], string>;
  daysPastDue: number;
  oldestUnpaid: string | null;
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

async function insertProducts(pool: pg.Pool) {
  const products = new Map<string, { id: string; code: string; terms: ProductTerms }>();
  for (const spec of BENCH_PRODUCTS) {
    const id = uuidv7();
    await pool.query(
      `insert into loan_products (id, code, name, currency, status, current_version) values ($1, $2, $3, 'KES', 'active', 1)`,
      [id, spec.code, `Benchmark ${spec.code}`],
    );
    await pool.query(`insert into loan_product_versions (product_id, version, terms) values ($1, 1, $2)`, [
      id,
      JSON.stringify(spec.terms),
    ]);
    products.set(spec.code, { id, code: spec.code, terms: spec.terms });
  }
  return products;
}

async function writeChunk(client: pg.PoolClient, chunk: SeedLoan[], businessDate: string) {
  const yesterday = addDays(businessDate, -1);
  const col = <T>(pick: (loan: SeedLoan) => T) => chunk.map(pick);
  await client.query(
    `insert into loan_applications (id, number, customer_id, product_id, product_version, amount_minor, currency, term,
       purpose, declared_monthly_income_minor, status, channel, decision, submitted_by_type, submitted_by_id,
       decided_at, created_at)
     select t.id, 'LA' || substr(t.number, 3), t.customer_id, t.product_id, 1, t.amount, 'KES', t.term,
       'Stock for the shop', 3000000, 'approved', 'app', 'approve', 'customer', t.customer_id::text,
       t.d::timestamptz, t.d::timestamptz
     from unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::bigint[], $6::int[], $7::date[])
       as t(id, number, customer_id, product_id, amount, term, d)`,
    [
      col((l) => l.applicationId),
      col((l) => l.number),
      col((l) => l.customer.id),
      col((l) => l.product.id),
      col((l) => l.principal.toString()),
      col((l) => l.term),
      col((l) => l.disbursedOn),
    ],
  );
  const parts = LOAN_PARTS.flatMap((part) => chunk.map((loan) => ({ loan, part })));
  await client.query(
    `insert into ledger_accounts (id, code, name, currency, kind, credits_must_not_exceed_debits)
     select id, code, name, 'KES', 'asset', true from unnest($1::uuid[], $2::text[], $3::text[]) as t(id, code, name)`,
    [
      parts.map((p) => p.loan.accounts[p.part]),
      parts.map((p) => loanAccountCode(p.loan.number, p.part)),
      parts.map(
        (p) =>
          `Loan ${p.loan.number} ${{ principal: 'principal outstanding', interest: 'interest receivable', fee: 'fees receivable', penalty: 'penalties receivable' }[p.part]}`,
      ),
    ],
  );
  await client.query(
    `insert into loans (id, number, application_id, customer_id, product_id, product_version, terms, currency,
       principal_minor, term, status, arrears_bucket, days_past_due, wallet_id, principal_account_id,
       interest_account_id, fee_account_id, penalty_account_id, approved_at, disbursed_at, disbursed_on,
       last_cob_date, accrued_through, created_at, updated_at)
     select t.id, t.number, t.application_id, t.customer_id, t.product_id, 1, v.terms, 'KES', t.principal, t.term,
       'active', t.bucket, t.dpd, t.wallet_id, t.pa, t.ia, t.fa, t.na, t.d::timestamptz, t.d::timestamptz, t.d,
       $16::date, case when v.terms->>'interest_calculation' = 'daily' then $16::date end, t.d::timestamptz, now()
     from unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::bigint[], $7::int[], $8::text[],
       $9::int[], $10::uuid[], $11::uuid[], $12::uuid[], $13::uuid[], $14::uuid[], $15::date[])
       as t(id, number, application_id, customer_id, product_id, principal, term, bucket, dpd, wallet_id, pa, ia,
         fa, na, d)
     join loan_product_versions v on v.product_id = t.product_id and v.version = 1`,
    [
      col((l) => l.id),
      col((l) => l.number),
      col((l) => l.applicationId),
      col((l) => l.customer.id),
      col((l) => l.product.id),
      col((l) => l.principal.toString()),
      col((l) => l.term),
      col((l) => bucketOf(l.daysPastDue)),
      col((l) => l.daysPastDue),
      col((l) => l.customer.walletId),
      col((l) => l.accounts.principal),
      col((l) => l.accounts.interest),
      col((l) => l.accounts.fee),
      col((l) => l.accounts.penalty),
      col((l) => l.disbursedOn),
      yesterday,
    ],
  );
  const rows = chunk.flatMap((loan) => loan.rows);
  const r = <T>(pick: (row: InstalmentRow) => T) => rows.map(pick);
  await client.query(
    `insert into loan_instalments (loan_id, seq, due_date, principal_due, interest_due, fee_due, penalty_due,
       principal_paid, interest_paid, fee_paid, penalty_paid, interest_accrued, status, penalty_applied_on, paid_at)
     select * from unnest($1::uuid[], $2::int[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
       $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::date[],
       $15::timestamptz[])`,
    [
      r((x) => x.loanId),
      r((x) => x.seq),
      r((x) => x.dueDate),
      r((x) => x.principalDue.toString()),
      r((x) => x.interestDue.toString()),
      r((x) => x.feeDue.toString()),
      r((x) => x.penaltyDue.toString()),
      r((x) => x.principalPaid.toString()),
      r((x) => x.interestPaid.toString()),
      r((x) => x.feePaid.toString()),
      r((x) => x.penaltyPaid.toString()),
      r((x) => x.interestAccrued.toString()),
      r((x) => x.status),
      r((x) => x.penaltyAppliedOn),
      r((x) => x.paidAt?.toISOString() ?? null),
    ],
  );
  const earned = chunk.flatMap((loan) => [...loan.earned].map(([seq, amount]) => ({ loan, seq, amount })));
  if (earned.length > 0)
    await client.query(
      `insert into loan_interest_earned (loan_id, seq, earned_minor)
       select * from unnest($1::uuid[], $2::int[], $3::bigint[])`,
      [earned.map((e) => e.loan.id), earned.map((e) => e.seq), earned.map((e) => e.amount.toString())],
    );
  const behind = chunk.filter((loan) => loan.daysPastDue > 0);
  if (behind.length > 0)
    await client.query(
      `insert into loan_collection_cases (id, number, loan_id, customer_id, status, opened_on, days_past_due,
         arrears_bucket)
       select id, number, loan_id, customer_id, 'open', opened_on, dpd, bucket
       from unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::date[], $6::int[], $7::text[])
         as t(id, number, loan_id, customer_id, opened_on, dpd, bucket)`,
      [
        behind.map(() => uuidv7()),
        behind.map((loan) => `LC${loan.number.slice(2)}`),
        behind.map((loan) => loan.id),
        behind.map((loan) => loan.customer.id),
        behind.map((loan) => addDays(loan.oldestUnpaid!, 1)),
        behind.map((loan) => loan.daysPastDue),
        behind.map((loan) => bucketOf(loan.daysPastDue)),
      ],
    );
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
