/**
 * The bulk SQL of the close-of-business portfolio (bench/loans-portfolio.ts): one chunk of loans with their approved
 * applications, their four ledger accounts, the loan rows (terms from the product version), instalments, daily
 * products' earned interest and the open collection cases of the loans already in arrears, each table in one
 * multi-row `unnest` insert.
 */
import type pg from 'pg';
import { addDays } from '../src/modules/loans/loans.calendar.ts';
import type { InstalmentRow } from '../src/modules/loans/loans.cob.loan.ts';
import { LOAN_PARTS, loanAccountCode } from '../src/modules/loans/loans.ledger.ts';
import { bucketOf, type ProductTerms } from '../src/modules/loans/loans.terms.ts';
import { uuidv7 } from '../src/platform/ids.ts';
import type { SeededCustomer } from './lib/seed.ts';

/** The loan, its instalments as close of business reads them, and its ledger balances. */
export interface SeedLoan {
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

export async function writeChunk(client: pg.PoolClient, chunk: SeedLoan[], businessDate: string) {
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
