/**
 * Portfolio figures (for the later reports module and `GET /api/v1/loan/portfolio/summary`), per currency:
 * - outstanding of the active loans by part (principal, recognised-unpaid interest, fees, penalties): the same
 *   amounts as the loans' ledger accounts, read from the instalments in one pass;
 * - portfolio at risk: the principal outstanding of loans more than 30, 60 and 90 days past due, and its ratio to
 *   all principal outstanding;
 * - disbursed and collected (repayments and automatic collections, recoveries apart) by day or month.
 */
import { and, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { rawRows } from '../../platform/db.ts';
import { checkedDate } from './loans.cob.loan.ts';
import { loanTransactions } from './loans.tables.ts';

export interface PortfolioQuery {
  currency?: string;
  /** Business dates, inclusive (default: the last 12 months through today). */
  from?: string;
  to?: string;
  period?: 'day' | 'month';
}

export interface PortfolioCurrency {
  currency: string;
  active_loans: number;
  outstanding: {
    principal_minor: bigint;
    interest_minor: bigint;
    fee_minor: bigint;
    penalty_minor: bigint;
    total_minor: bigint;
  };
  par: { days: number; loans: number; principal_minor: bigint; ratio: string }[];
  flows: { period: string; disbursed_minor: bigint; collected_minor: bigint; recovered_minor: bigint }[];
}

/** A ratio as a decimal string with 4 places (0.1234), exact (bigint arithmetic, half-up). */
function ratio(part: bigint, whole: bigint): string {
  if (whole === 0n) return '0.0000';
  const scaled = (part * 20000n + whole) / (2n * whole);
  const text = scaled.toString().padStart(5, '0');
  return `${text.slice(0, -4)}.${text.slice(-4)}`;
}

/** Outstanding and PAR of the active loans, per currency. */
export async function portfolioOutstanding(db: Executor, currency?: string) {
  return rawRows<{
    currency: string;
    loans: string;
    principal: string;
    interest: string;
    fee: string;
    penalty: string;
    par30: string;
    par60: string;
    par90: string;
    par30_loans: string;
    par60_loans: string;
    par90_loans: string;
  }>(
    db,
    sql`with per_loan as (
          select l.currency, l.days_past_due as dpd,
            sum(i.principal_due - i.principal_paid) as principal,
            sum(greatest(i.interest_accrued - i.interest_paid, 0)) as interest,
            sum(i.fee_due - i.fee_paid) as fee,
            sum(i.penalty_due - i.penalty_paid) as penalty
          from loans l join loan_instalments i on i.loan_id = l.id
          where l.status = 'active' ${currency ? sql`and l.currency = ${currency}` : sql``}
          group by l.id, l.currency, l.days_past_due
        )
        select currency, count(*)::text as loans,
          sum(principal)::text as principal, sum(interest)::text as interest,
          sum(fee)::text as fee, sum(penalty)::text as penalty,
          coalesce(sum(principal) filter (where dpd > 30), 0)::text as par30,
          coalesce(sum(principal) filter (where dpd > 60), 0)::text as par60,
          coalesce(sum(principal) filter (where dpd > 90), 0)::text as par90,
          count(*) filter (where dpd > 30)::text as par30_loans,
          count(*) filter (where dpd > 60)::text as par60_loans,
          count(*) filter (where dpd > 90)::text as par90_loans
        from per_loan group by currency order by currency`,
  );
}

/** Disbursed, collected and recovered amounts per period and currency between two business dates. */
export async function portfolioFlows(
  db: Executor,
  query: Required<Pick<PortfolioQuery, 'from' | 'to' | 'period'>> & { currency?: string },
) {
  const bucket =
    query.period === 'day'
      ? sql`to_char(${loanTransactions.businessDate}, 'YYYY-MM-DD')`
      : sql`to_char(${loanTransactions.businessDate}, 'YYYY-MM')`;
  return db
    .select({
      currency: loanTransactions.currency,
      period: sql<string>`${bucket}`,
      disbursed: sql<string>`coalesce(sum(${loanTransactions.amountMinor}) filter (where ${loanTransactions.type} = 'disbursement'), 0)::text`,
      collected: sql<string>`coalesce(sum(${loanTransactions.amountMinor}) filter (where ${loanTransactions.type} in ('repayment', 'auto_collection')), 0)::text`,
      recovered: sql<string>`coalesce(sum(${loanTransactions.amountMinor}) filter (where ${loanTransactions.type} = 'recovery'), 0)::text`,
    })
    .from(loanTransactions)
    .where(
      and(
        inArray(loanTransactions.type, ['disbursement', 'repayment', 'auto_collection', 'recovery']),
        gte(loanTransactions.businessDate, query.from),
        lte(loanTransactions.businessDate, query.to),
        query.currency ? sql`${loanTransactions.currency} = ${query.currency}` : undefined,
      ),
    )
    .groupBy(loanTransactions.currency, bucket)
    .orderBy(loanTransactions.currency, bucket);
}

/** The whole summary: outstanding, PAR30/60/90 and flows per currency. */
export async function portfolioSummary(db: Executor, query: PortfolioQuery, today: string) {
  if (query.from) checkedDate(query.from, 'query.from');
  if (query.to) checkedDate(query.to, 'query.to');
  const to = query.to ?? today;
  const from = query.from ?? `${String(Number(to.slice(0, 4)) - 1)}${to.slice(4, 7)}-01`;
  const period = query.period ?? 'month';
  const outstanding = await portfolioOutstanding(db, query.currency);
  const flows = await portfolioFlows(db, { from, to, period, currency: query.currency });
  const currencies = new Map<string, PortfolioCurrency>();
  const entry = (currency: string): PortfolioCurrency => {
    let found = currencies.get(currency);
    if (!found) {
      found = {
        currency,
        active_loans: 0,
        outstanding: {
          principal_minor: 0n,
          interest_minor: 0n,
          fee_minor: 0n,
          penalty_minor: 0n,
          total_minor: 0n,
        },
        par: [30, 60, 90].map((days) => ({ days, loans: 0, principal_minor: 0n, ratio: '0.0000' })),
        flows: [],
      };
      currencies.set(currency, found);
    }
    return found;
  };
  for (const row of outstanding) {
    const item = entry(row.currency);
    const principal = BigInt(row.principal);
    item.active_loans = Number(row.loans);
    item.outstanding = {
      principal_minor: principal,
      interest_minor: BigInt(row.interest),
      fee_minor: BigInt(row.fee),
      penalty_minor: BigInt(row.penalty),
      total_minor: principal + BigInt(row.interest) + BigInt(row.fee) + BigInt(row.penalty),
    };
    item.par = (
      [
        [30, row.par30, row.par30_loans],
        [60, row.par60, row.par60_loans],
        [90, row.par90, row.par90_loans],
      ] as const
    ).map(([days, amount, loans]) => ({
      days,
      loans: Number(loans),
      principal_minor: BigInt(amount),
      ratio: ratio(BigInt(amount), principal),
    }));
  }
  for (const row of flows)
    entry(row.currency).flows.push({
      period: row.period,
      disbursed_minor: BigInt(row.disbursed),
      collected_minor: BigInt(row.collected),
      recovered_minor: BigInt(row.recovered),
    });
  return { from, to, period, currencies: [...currencies.values()] };
}
