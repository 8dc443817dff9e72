/**
 * The facts the scorecard reads: the wallet's activity over the last 90 days (through the ledger's exported journal
 * reads: the wallet's ledger account has the wallet's id), and the customer's past loans (this module's tables).
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { balanceBefore, journalLines } from '../ledger/index.ts';
import type { LoanHistory } from './loans.scoring.scorecard.ts';
import { loanInstalments, loans } from './loans.tables.ts';

export const DAY_MS = 86_400_000;
export const WINDOW_DAYS = 90;
const PERIOD_DAYS = 30;
const PAGE = 500;

export interface WalletActivity {
  /** Time-weighted average of the balance over the window (minor units; before the wallet opened counts as 0). */
  averageBalanceMinor: bigint;
  /** Credits to the wallet over the window, loan disbursements excepted. */
  inflowsMinor: bigint;
  /** Of the three 30-day periods of the window, how many had an inflow. */
  monthsWithInflows: number;
}

/** A posting of a loan (disbursement, refund) carries its loan_id: it is not income. */
function isLoanPosting(metadata: Record<string, unknown> | null): boolean {
  return typeof metadata?.loan_id === 'string';
}

/**
 * Walks the wallet's journal lines of the last 90 days in pages (memory stays bounded), integrating the balance over
 * time and bucketing the inflows by 30-day period, most recent first.
 */
export async function walletActivity(db: Executor, walletId: string, now: Date): Promise<WalletActivity> {
  const from = new Date(now.getTime() - WINDOW_DAYS * DAY_MS);
  let balance = (await balanceBefore(db, walletId, { before: from })) ?? 0n;
  let at = from.getTime();
  let weighted = 0n;
  let inflows = 0n;
  const periods = [0n, 0n, 0n];
  let after: bigint | undefined;
  for (;;) {
    const lines = await journalLines(db, walletId, { from, to: now, afterEntry: after }, PAGE);
    for (const line of lines) {
      const time = line.entry.createdAt.getTime();
      weighted += balance * BigInt(Math.max(0, time - at));
      at = Math.max(at, time);
      if (line.entry.balanceAfter !== null) balance = line.entry.balanceAfter;
      if (line.entry.direction === 'credit' && !isLoanPosting(line.metadata)) {
        inflows += line.entry.amount;
        const period = Math.min(2, Math.max(0, Math.floor((now.getTime() - time) / (PERIOD_DAYS * DAY_MS))));
        periods[period] = (periods[period] ?? 0n) + line.entry.amount;
      }
    }
    if (lines.length < PAGE) break;
    after = lines[lines.length - 1]?.entry.id;
  }
  weighted += balance * BigInt(Math.max(0, now.getTime() - at));
  return {
    averageBalanceMinor: weighted / BigInt(WINDOW_DAYS * DAY_MS),
    inflowsMinor: inflows,
    monthsWithInflows: periods.filter((amount) => amount > 0n).length,
  };
}

/**
 * The customer's loans that ran (disbursed: active, closed, written off), with how late each paid: the most days an
 * instalment was paid after its due date, or is still unpaid past it (UTC dates).
 */
export async function loanHistory(db: Executor, customerId: string, today: string): Promise<LoanHistory> {
  const lateness = sql<number>`coalesce(max(greatest(0, coalesce(
      (${loanInstalments.paidAt} at time zone 'UTC')::date,
      case when ${loanInstalments.status} <> 'paid' and ${loanInstalments.dueDate} < ${today}::date
        then ${today}::date end
    ) - ${loanInstalments.dueDate})), 0)::int`;
  const rows = await db
    .select({ status: loans.status, daysPastDue: loans.daysPastDue, worstLate: lateness })
    .from(loans)
    .leftJoin(loanInstalments, eq(loanInstalments.loanId, loans.id))
    .where(and(eq(loans.customerId, customerId), inArray(loans.status, ['active', 'closed', 'written_off'])))
    .groupBy(loans.id);
  const history: LoanHistory = {
    closedOnTime: 0,
    closedLate: 0,
    writtenOff: 0,
    active: 0,
    currentDaysPastDue: 0,
    worstDaysLate: 0,
  };
  for (const row of rows) {
    const late = Number(row.worstLate);
    history.worstDaysLate = Math.max(history.worstDaysLate, late);
    if (row.status === 'written_off') history.writtenOff += 1;
    else if (row.status === 'closed') {
      if (late > 0) history.closedLate += 1;
      else history.closedOnTime += 1;
    } else {
      history.active += 1;
      history.currentDaysPastDue = Math.max(history.currentDaysPastDue, row.daysPastDue);
    }
  }
  return history;
}
