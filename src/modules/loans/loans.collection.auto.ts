/**
 * Automatic collection from the customer's wallet. A daily run (business date = the UTC date) collects every active
 * loan with an open instalment due that day or `LOANS_COLLECTION_RETRY_DAYS` days before (default 1, 2, 3 and 7
 * days after the due date); and every inbound credit to a wallet (`transaction.completed` with the wallet as its
 * destination) collects the loans of that wallet with instalments due and unpaid. Each collection takes what the
 * wallet holds up to what is due — partially if it must, never an overdraft — and is keyed (loan transaction dedupe
 * key, ledger key, notification key) by the loan and the business date, or by the loan and the event id, so a rerun
 * of the day or a redelivered event collects once. The customer is told what was taken and what is still owed.
 */
import { ConfigProblem, type ConfigSpec, list, variable } from '../../platform/config-spec.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { DomainEvent } from '../../platform/events.ts';
import { formatMoney } from '../../platform/money.ts';
import type { NotificationsService } from '../notifications/index.ts';
import type { transactionCompleted } from '../transactions/index.ts';
import { addDays } from './loans.calendar.ts';
import { loansDueOn, loansOwingFromWallet } from './loans.repayments.repository.ts';
import { businessDate, type RepaymentResult, type RepaymentsService } from './loans.repayments.ts';

function retryDays(raw: string): number[] {
  const days = list(raw).map((item) => {
    if (!/^\d{1,3}$/.test(item) || Number(item) < 1)
      throw new ConfigProblem(`must be whole days after the due date (1-999), got "${item}"`);
    return Number(item);
  });
  return [...new Set(days)].sort((a, b) => a - b);
}

/** The repayments area's part of the loans module's configuration. */
export const collectionConfig = {
  LOANS_COLLECTION_RETRY_DAYS: variable(
    'Days after an instalment’s due date on which automatic collection tries the wallet again (comma-separated); ' +
      'every inbound credit to the wallet also tries until the instalment is paid',
    '1,2,3,7',
    retryDays,
  ),
} satisfies ConfigSpec;

/** One page of a collection run. */
const PAGE = 200;

export interface CollectionRun {
  date: string;
  loans: number;
  collected: number;
  amount_minor: bigint;
  failed: number;
}

const TITLE = {
  en: 'Loan repayment collected',
  fr: 'Remboursement de prêt prélevé',
  sw: 'Malipo ya mkopo yamekatwa',
};

function message(result: RepaymentResult): Record<string, string> {
  const taken = formatMoney(result.amount_minor, result.currency);
  const left = formatMoney(result.outstanding_minor, result.currency);
  const number = result.loan_number;
  if (result.loan_status === 'closed')
    return {
      en: `We collected ${taken} from your wallet for loan ${number}. The loan is now fully repaid.`,
      fr: `Nous avons prélevé ${taken} sur votre portefeuille pour le prêt ${number}. Le prêt est entièrement remboursé.`,
      sw: `Tumekata ${taken} kutoka kwenye pochi yako kwa mkopo ${number}. Mkopo umelipwa wote.`,
    };
  return {
    en: `We collected ${taken} from your wallet for loan ${number}. Still owed: ${left}.`,
    fr: `Nous avons prélevé ${taken} sur votre portefeuille pour le prêt ${number}. Reste dû : ${left}.`,
    sw: `Tumekata ${taken} kutoka kwenye pochi yako kwa mkopo ${number}. Deni lililobaki: ${left}.`,
  };
}

export class AutoCollection {
  readonly #db: Executor;
  readonly #repayments: RepaymentsService;
  readonly #notifications: NotificationsService | null;
  readonly retryDays: readonly number[];
  #lastError: unknown = null;

  constructor(options: {
    db: Executor;
    repayments: RepaymentsService;
    notifications: NotificationsService | null;
    retryDays: readonly number[];
  }) {
    this.#db = options.db;
    this.#repayments = options.repayments;
    this.#notifications = options.notifications;
    this.retryDays = options.retryDays;
  }

  /** The business dates whose instalments today's run collects: today and each retry day back. */
  datesFor(today: string): string[] {
    return [today, ...this.retryDays.map((days) => addDays(today, -days))];
  }

  /**
   * Today's run: each loan in its own transaction, page by page (memory stays bounded); a loan that fails does not
   * stop the others, and the run then throws so the job is retried. Rerunning the same date takes nothing more (the
   * key is the loan and the date).
   */
  async runDaily(today: string = businessDate()): Promise<CollectionRun> {
    const run: CollectionRun = { date: today, loans: 0, collected: 0, amount_minor: 0n, failed: 0 };
    const dates = this.datesFor(today);
    let after: string | null = null;
    for (;;) {
      const page = await loansDueOn(this.#db, dates, after, PAGE);
      if (page.length === 0) break;
      for (const { id } of page) {
        run.loans += 1;
        try {
          const result = await inTransaction(this.#db, (tx) =>
            this.collectOne(tx, id, `auto:${id}:${today}`, today),
          );
          if (result) {
            run.collected += 1;
            run.amount_minor += result.amount_minor;
          }
        } catch (error) {
          run.failed += 1;
          this.#lastError = error;
        }
      }
      after = page.at(-1)!.id;
    }
    // The job fails (and the queue retries it: each loan's key makes the retry take only what was not taken).
    if (run.failed > 0)
      throw new Error(`automatic collection ${today}: ${run.failed} of ${run.loans} loans failed`, {
        cause: this.#lastError,
      });
    return run;
  }

  /**
   * An inbound credit to a wallet (`transaction.completed`): collects the wallet's loans that have instalments due
   * and unpaid, inside the event consumer's transaction, keyed by the event id.
   */
  async onCredit(
    tx: Executor,
    event: DomainEvent<typeof transactionCompleted>,
    today: string = businessDate(),
  ): Promise<RepaymentResult[]> {
    const { destination_wallet_id: walletId, destination_customer_id: customerId } = event.payload;
    // Loans are a person's, collected from their own wallet: a credit to a merchant's wallet has no customer.
    if (!walletId || !customerId) return [];
    const results: RepaymentResult[] = [];
    for (const { id } of await loansOwingFromWallet(tx, customerId, walletId, today)) {
      const result = await this.collectOne(tx, id, `auto:${id}:event:${event.id}`, today);
      if (result) results.push(result);
    }
    return results;
  }

  /** One loan's collection and its message to the customer, in the caller's transaction. */
  async collectOne(
    tx: Executor,
    loanId: string,
    key: string,
    today: string,
  ): Promise<RepaymentResult | null> {
    const result = await this.#repayments.collect(tx, loanId, key, today);
    if (!result || !this.#notifications) return result;
    await this.#notifications.queue(tx, {
      recipient: { type: 'customer', id: result.customer_id },
      template: 'notification.message',
      channels: ['sms', 'in_app'],
      variables: {},
      localized: { title: TITLE, message: message(result) },
      data: { kind: 'loan_auto_collection', loan_id: loanId, transaction_id: result.id },
      dedupeKey: `loan-collection:${key}`,
    });
    return result;
  }
}
