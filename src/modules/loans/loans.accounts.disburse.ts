/**
 * Disbursement (issue 16): the approved loan's money reaches the customer's wallet through the ledger. It creates the
 * loan's four ledger accounts, posts Dr principal / Cr wallet (net) / Cr fee income (a deducted upfront fee), and
 * Dr fee receivable / Cr fee income for a fee added to the first instalment, in one batch keyed by the loan; the
 * schedule is regenerated from the actual business date. Wallet limits do not apply, but the wallet's maximum balance
 * does: refused before anything is posted (docs/adr/0027-loan-accounting.md).
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { formatMoney } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { LEDGER_STATES, LedgerError } from '../ledger/index.ts';
import type { NotificationsService } from '../notifications/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import {
  holidaysFrom,
  insertLoanTransaction,
  replaceInstalments,
  updateLoan,
} from './loans.accounts.repository.ts';
import { holidayCalendar } from './loans.calendar.ts';
import { loansErrors } from './loans.errors.ts';
import { loanDisbursed } from './loans.events.ts';
import { type LoanForPosting, type LoanLedger, lockLoan } from './loans.ledger.ts';
import { deductedFee, generateSchedule, type ScheduleLine } from './loans.schedule.ts';
import type { ProductTerms } from './loans.terms.ts';
import { type LoanView, type LoanViews, loanNotFound } from './loans.views.ts';

/** Today's business date (UTC). */
export function businessToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** A loan's schedule from a business date, due dates moved off weekends and `loan_holidays`. */
export async function loanSchedule(
  executor: Executor,
  input: { principal: bigint; currency: string; term: number; terms: ProductTerms; from: string },
): Promise<ScheduleLine[]> {
  const holidays = await holidaysFrom(executor, input.from);
  return generateSchedule({
    principal: input.principal,
    currency: input.currency,
    term: input.term,
    terms: input.terms,
    disbursedOn: input.from,
    isWorkingDay: holidayCalendar(holidays),
  });
}

const codes = loansErrors;

type Texts = { en: string; fr: string; sw: string };

/**
 * Tells the customer something about their loan (SMS and inbox, through the notifications module's generic message in
 * their language). In a savepoint: a message that cannot be queued never undoes the money movement or decision.
 */
export async function notifyCustomer(
  notifications: NotificationsService | null,
  tx: Executor,
  input: {
    customerId: string;
    dedupeKey: string;
    data: Record<string, string>;
    title: Texts;
    message: Texts;
  },
): Promise<void> {
  if (!notifications) return;
  try {
    await tx.transaction(async (savepoint) => {
      await notifications.queue(savepoint as unknown as Executor, {
        recipient: { type: 'customer', id: input.customerId },
        template: 'notification.message',
        channels: ['sms', 'in_app'],
        variables: {},
        localized: { title: input.title, message: input.message },
        data: input.data,
        dedupeKey: input.dedupeKey,
        createdBy: { type: 'system', id: null },
      });
    });
  } catch {
    // The savepoint rolled back: the movement or decision stands without its message.
  }
}

export class LoanDisbursement {
  readonly #db: Executor;
  readonly #loanLedger: LoanLedger;
  readonly #wallets: WalletsService;
  readonly #notifications: NotificationsService | null;
  readonly #views: LoanViews;

  constructor(options: {
    db: Executor;
    loanLedger: LoanLedger;
    wallets: WalletsService;
    notifications: NotificationsService | null;
    views: LoanViews;
  }) {
    this.#db = options.db;
    this.#loanLedger = options.loanLedger;
    this.#wallets = options.wallets;
    this.#notifications = options.notifications;
    this.#views = options.views;
  }

  /**
   * `/loan/loan/disburse`: the approved loan's money reaches the customer's wallet. Replays of the Idempotency-Key
   * answer the stored bytes (one ledger effect); another key for a loan already disbursed answers 409.
   */
  async disburse(
    principal: Principal,
    input: { loan_id: string },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<LoanView> {
    const found = await this.#views.visible(input.loan_id, principal);
    // House accounts are created committed, before the transaction that uses them (see ensureHouseAccounts).
    await this.#loanLedger.ensureHouseAccounts(this.#db, found.productCode, found.currency);
    return inTransaction(this.#db, async (tx) => {
      const loan = await lockLoan(tx, input.loan_id);
      if (!loan) throw loanNotFound();
      if (loan.status !== 'approved')
        throw codes.LOAN_WRONG_STATE({ params: { status: loan.status }, details: { status: loan.status } });
      const wallets = await this.#wallets.lock(tx, [loan.walletId]);
      const wallet = wallets.get(loan.walletId);
      const unavailable = () =>
        codes.LOAN_WALLET_UNAVAILABLE({
          params: { currency: loan.currency },
          details: { currency: loan.currency },
        });
      if (wallet?.status !== 'active') throw unavailable();
      const now = new Date();
      const facts = (await this.#wallets.facts(tx, [wallet], now)).get(wallet.id);
      if (facts?.wallet.status !== 'active') throw unavailable();
      const fee = deductedFee(loan.principalMinor, loan.terms, loan.currency);
      const net = loan.principalMinor - fee;
      const maxBalance = facts.limits.maxBalance;
      const balance = (await this.#loanLedger.ledger.balance(wallet.id, tx)).balance;
      const refuse = () =>
        codes.LOAN_MAX_BALANCE_EXCEEDED({
          params: { max_balance: formatMoney(maxBalance ?? 0n, loan.currency) },
          details: {
            balance_minor: balance.toString(),
            net_minor: net.toString(),
            max_balance_minor: (maxBalance ?? 0n).toString(),
          },
        });
      if (maxBalance !== null && balance + net > maxBalance) throw refuse();

      const today = businessToday(now);
      const lines = await loanSchedule(tx, {
        principal: loan.principalMinor,
        currency: loan.currency,
        term: loan.term,
        terms: loan.terms,
        from: today,
      });
      await replaceInstalments(tx, loan.id, lines);
      const accounts = await this.#loanLedger.createLoanAccounts(tx, loan);
      const posting: LoanForPosting = {
        ...loan,
        principalAccountId: accounts.principal,
        interestAccountId: accounts.interest,
        feeAccountId: accounts.fee,
        penaltyAccountId: accounts.penalty,
      };
      const firstFee = lines[0]?.fee_due ?? 0n;
      const key = `loan:${loan.id}:disbursement`;
      let batch: Awaited<ReturnType<LoanLedger['postLoanMovement']>>;
      try {
        batch = await this.#loanLedger.postLoanMovement(tx, {
          key,
          code: 'loan_disbursement',
          loan: posting,
          narration: `Loan ${loan.number} disbursement`,
          legs: [
            { debit: 'principal', credit: { account: wallet.id }, amount: net, code: 'principal' },
            { debit: 'principal', credit: 'fee_income', amount: fee, code: 'fee' },
            { debit: 'fee', credit: 'fee_income', amount: firstFee, code: 'fee' },
          ],
          caps: maxBalance === null ? [] : [{ accountId: wallet.id, cap: maxBalance }],
        });
      } catch (error) {
        if (error instanceof LedgerError && error.state === LEDGER_STATES.capExceeded) throw refuse();
        throw error;
      }
      const actor = { actorType: principal.type, actorId: principal.id } as const;
      await insertLoanTransaction(tx, {
        id: uuidv7(),
        loanId: loan.id,
        type: 'disbursement',
        amountMinor: loan.principalMinor,
        currency: loan.currency,
        allocation: { principal: net.toString(), fee: fee.toString() },
        source: 'wallet',
        ledgerBatchId: batch?.batchId ?? null,
        dedupeKey: key,
        businessDate: today,
        ...actor,
      });
      if (firstFee > 0n)
        await insertLoanTransaction(tx, {
          id: uuidv7(),
          loanId: loan.id,
          type: 'fee',
          amountMinor: firstFee,
          currency: loan.currency,
          allocation: { fee: firstFee.toString() },
          ledgerBatchId: batch?.batchId ?? null,
          dedupeKey: `${key}:first_instalment_fee`,
          businessDate: today,
          ...actor,
        });
      await updateLoan(tx, loan.id, { status: 'active', disbursedAt: now, disbursedOn: today });
      await emitEvent(
        tx,
        loanDisbursed,
        { type: 'loan', id: loan.id },
        {
          loan_id: loan.id,
          number: loan.number,
          customer_id: loan.customerId,
          wallet_id: wallet.id,
          principal_minor: loan.principalMinor.toString(),
          net_minor: net.toString(),
          currency: loan.currency,
          first_due_date: lines[0]!.due_date,
        },
      );
      const first = lines[0]!;
      const amount = formatMoney(net, loan.currency);
      const instalment = formatMoney(first.principal_due + first.interest_due + first.fee_due, loan.currency);
      await notifyCustomer(this.#notifications, tx, {
        customerId: loan.customerId,
        dedupeKey: `loan:${loan.id}:disbursed`,
        data: { loan_id: loan.id },
        title: { en: 'Loan disbursed', fr: 'Prêt décaissé', sw: 'Mkopo umetolewa' },
        message: {
          en: `Loan ${loan.number}: ${amount} was paid into your wallet. First instalment ${instalment} due ${first.due_date}.`,
          fr: `Prêt ${loan.number} : ${amount} a été versé sur votre portefeuille. Première échéance ${instalment} le ${first.due_date}.`,
          sw: `Mkopo ${loan.number}: ${amount} umewekwa kwenye pochi yako. Awamu ya kwanza ${instalment} tarehe ${first.due_date}.`,
        },
      });
      const view = await this.#views.view(tx, loan.id);
      await writeAudit(tx, context, {
        action: 'loan.disbursed',
        entityType: 'loan',
        entityId: loan.id,
        before: { status: 'approved' },
        after: {
          status: 'active',
          net_minor: net.toString(),
          fee_minor: fee.toString(),
          disbursed_on: today,
        },
      });
      await claim?.commit(tx, 200, view);
      return view;
    });
  }
}
