/**
 * Money between a wallet and the customer's verified bank account, through the core banking system. The bank call
 * cannot sit inside a database transaction, so each movement is three steps:
 *
 * 1. Validate and authorize (engine `prepare`, PIN/OTP), then commit the record in `processing` (a withdrawal also
 *    holds amount + fee + duty on the wallet as pending ledger transfers) together with the idempotent answer
 *    "outcome unknown (503)": a retry or a crash from here on can never send the bank a second posting.
 * 2. Call the CBS with the transaction reference as the receipt number.
 * 3. Confirmed: post (or post the hold), mark completed, emit `transaction.completed` and store the 201 answer, in
 *    one transaction. Refused by the bank: mark failed (void the hold) and store the 422. No answer: the record
 *    stays `processing` (with its hold) for reconciliation, which finds it at the bank by its reference.
 *
 * The records are the payment engine's: its steps (`begin`, `complete`, `fail`, `note`, `recordRefusal`) build and
 * write them as its own commit does; this module holds the money (the hold) and talks to the bank.
 */
import type { CoreBankingPort } from '../../integrations/fineract/fineract.client.ts';
import type { RequestContext } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { errorBody } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, positiveAmount } from '../../platform/money.ts';
import { LEDGER_STATES, LedgerError, type LedgerService, type Leg } from '../ledger/index.ts';
import {
  type Authorization,
  type MovementPlan,
  newReference,
  type PaymentAuthorizer,
  type TransactionRow,
  type TransactionsService,
  transactionErrors,
} from '../transactions/index.ts';
import type { WalletRow, WalletsService } from '../wallets/index.ts';
import { BANK_HOLD_DAYS, type LinkedAccountRow, type LinkedAccountsService } from './banking.accounts.ts';
import { classifyPostingFailure, type PostingFailure, postingDate } from './banking.cbs.ts';
import { bankErrors } from './banking.errors.ts';

type Step = TransactionRow['history'][number];

export interface BankMoneyInput extends Authorization {
  bank_account_id: string;
  amount: number;
  currency?: string;
  narration?: string;
}

const now = () => new Date().toISOString();

export class BankTransfersService {
  readonly #deps: Dependencies;
  readonly #ledger: LedgerService;
  readonly #wallets: WalletsService;
  readonly #transactions: TransactionsService;
  readonly #accounts: LinkedAccountsService;
  readonly #authorizer: PaymentAuthorizer;

  constructor(options: {
    deps: Dependencies;
    ledger: LedgerService;
    wallets: WalletsService;
    transactions: TransactionsService;
    accounts: LinkedAccountsService;
    authorizer: PaymentAuthorizer;
  }) {
    this.#deps = options.deps;
    this.#ledger = options.ledger;
    this.#wallets = options.wallets;
    this.#transactions = options.transactions;
    this.#accounts = options.accounts;
    this.#authorizer = options.authorizer;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  /** Pulls money from the customer's bank account into their wallet. */
  async topUp(
    principal: Principal,
    input: BankMoneyInput,
    channel: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const { cbs, account, wallet, amount } = await this.#parties(principal, input);
    const settlement = await this.#ledger.houseAccount(`settlement:${account.currency}`);
    const plan: MovementPlan = {
      type: 'bank_topup',
      channel,
      initiator: { type: 'customer', id: principal.id },
      source: { kind: 'account', accountId: settlement },
      destination: { kind: 'wallet', walletId: wallet.id },
      amount,
      currency: account.currency,
      feeRule: null,
      narration: input.narration ?? null,
      metadata: bankDetails(account),
      claim,
    };
    const steps: Step[] = [{ state: 'initiated', at: now() }];
    await this.#assertBankFeature(wallet, channel);
    const quote = await this.#transactions.engine.prepare(plan);
    steps.push({ state: 'validated', at: now() });
    await this.#authorizer.authorize(
      principal.id,
      {
        type: plan.type,
        source: `bank-account:${account.id}`,
        payee: wallet.id,
        amount,
        currency: plan.currency,
      },
      input,
    );
    steps.push({ state: 'authorized', at: now() });

    // Step 1, under the wallet lock: limits re-checked, the credit reserved as a pending transfer (so the balance
    // cap counts top-ups still at the bank), usage counted. Nothing can be taken from the bank that the wallet
    // could not accept.
    const id = uuidv7();
    const reference = newReference();
    let record: TransactionRow;
    try {
      record = await inTransaction(this.#db, async (tx) => {
        const { destinationMaxBalance, wallets: locked } = await this.#transactions.engine.validateLocked(
          tx,
          plan,
        );
        const hold = await this.#ledger.post(tx, {
          key: `transaction:${id}:hold`,
          code: 'bank_topup',
          reference,
          metadata: { transaction_id: id, hold: true },
          legs: [{ debit: settlement, credit: wallet.id, amount, code: 'principal' }],
          pendingUntil: new Date(Date.now() + BANK_HOLD_DAYS * 86_400_000),
          caps: destinationMaxBalance === null ? [] : [{ accountId: wallet.id, cap: destinationMaxBalance }],
        });
        await this.#transactions.engine.countUsage(tx, plan, locked);
        return this.#begin(tx, { id, reference, plan, steps, wallets: locked, quote, hold, context });
      });
    } catch (error) {
      if (error instanceof LedgerError && error.state === LEDGER_STATES.capExceeded)
        throw transactionErrors.balanceCap();
      throw error;
    }
    const holds = ((record.metadata?.hold_transfer_ids as string[]) ?? []).map((transferId) => ({
      transferId,
    }));

    let cbsTransactionId: string;
    try {
      const posting = await cbs.withdraw(
        Number(account.externalAccountId),
        amount,
        currencyInfo(account.currency).exponent,
        { reference: record.reference, date: postingDate() },
      );
      cbsTransactionId = posting.transactionId;
    } catch (error) {
      return this.#settleFailure(record, classifyPostingFailure(error), claim, context, holds);
    }

    return inTransaction(this.#db, async (tx) => {
      const batch = await this.#ledger.resolve(tx, {
        key: `transaction:${record.id}`,
        code: 'bank_topup',
        reference: record.reference,
        pending: holds,
        void: false,
      });
      return this.#complete(tx, record, batch.batchId, cbsTransactionId, claim);
    });
  }

  /** Pays money out of the wallet into the customer's bank account (amount; fee and duty stay with us). */
  async withdraw(
    principal: Principal,
    input: BankMoneyInput,
    channel: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const { cbs, account, wallet, amount } = await this.#parties(principal, input);
    const settlement = await this.#ledger.houseAccount(`settlement:${account.currency}`);
    const feeIncome = await this.#ledger.houseAccount(`fee_income:${account.currency}`);
    const taxPayable = await this.#ledger.houseAccount(`tax_payable:${account.currency}`);
    const plan: MovementPlan = {
      type: 'bank_withdrawal',
      channel,
      initiator: { type: 'customer', id: principal.id },
      source: { kind: 'wallet', walletId: wallet.id },
      destination: { kind: 'account', accountId: settlement },
      amount,
      currency: account.currency,
      feeRule: 'bank_withdrawal',
      feature: 'bank_transfer',
      narration: input.narration ?? null,
      metadata: bankDetails(account),
      claim,
    };
    const steps: Step[] = [{ state: 'initiated', at: now() }];
    const quote = await this.#transactions.engine.prepare(plan);
    steps.push({ state: 'validated', at: now() });
    await this.#authorizer.authorize(
      principal.id,
      {
        type: plan.type,
        source: wallet.id,
        payee: `bank-account:${account.id}`,
        amount,
        currency: plan.currency,
      },
      input,
    );
    steps.push({ state: 'authorized', at: now() });

    const id = uuidv7();
    const reference = newReference();
    const legs: Leg[] = [{ debit: wallet.id, credit: settlement, amount, code: 'principal' }];
    if (quote.fee > 0n) legs.push({ debit: wallet.id, credit: feeIncome, amount: quote.fee, code: 'fee' });
    if (quote.tax > 0n) legs.push({ debit: wallet.id, credit: taxPayable, amount: quote.tax, code: 'tax' });
    let record: TransactionRow;
    try {
      record = await inTransaction(this.#db, async (tx) => {
        // Limits are re-checked under the wallet lock and usage counted with the hold, so parallel withdrawals
        // cannot together pass a daily limit.
        const { wallets: locked } = await this.#transactions.engine.validateLocked(tx, plan);
        const hold = await this.#ledger.post(tx, {
          key: `transaction:${id}:hold`,
          code: 'bank_withdrawal',
          reference,
          metadata: { transaction_id: id, hold: true },
          legs,
          pendingUntil: new Date(Date.now() + BANK_HOLD_DAYS * 86_400_000),
        });
        await this.#transactions.engine.countUsage(tx, plan, locked);
        return this.#begin(tx, { id, reference, plan, steps, wallets: locked, quote, hold, context });
      });
    } catch (error) {
      if (error instanceof LedgerError && error.state === LEDGER_STATES.insufficientFunds) {
        const refusal = transactionErrors.insufficientBalance(
          quote.total,
          BigInt(error.detail.available ?? '0'),
        );
        await this.#transactions.engine.recordRefusal(id, reference, plan, steps, refusal, context);
        throw refusal;
      }
      throw error;
    }
    const holds = ((record.metadata?.hold_transfer_ids as string[]) ?? []).map((transferId) => ({
      transferId,
    }));

    let cbsTransactionId: string;
    try {
      const posting = await cbs.deposit(
        Number(account.externalAccountId),
        amount,
        currencyInfo(account.currency).exponent,
        { reference, date: postingDate() },
      );
      cbsTransactionId = posting.transactionId;
    } catch (error) {
      return this.#settleFailure(record, classifyPostingFailure(error), claim, context, holds);
    }

    return inTransaction(this.#db, async (tx) => {
      const batch = await this.#ledger.resolve(tx, {
        key: `transaction:${id}`,
        code: 'bank_withdrawal',
        reference,
        pending: holds,
        void: false,
      });
      return this.#complete(tx, record, batch.batchId, cbsTransactionId, claim);
    });
  }

  /** The customer, the CBS, their verified bank account and their wallet in its currency. */
  async #parties(principal: Principal, input: BankMoneyInput) {
    if (principal.type !== 'customer') throw bankErrors.customerOnly();
    const cbs: CoreBankingPort = this.#accounts.cbs();
    const amount = positiveAmount(input.amount);
    const account = await this.#accounts.verifiedRow(principal, input.bank_account_id);
    if (input.currency !== undefined && input.currency !== account.currency)
      throw transactionErrors.currencyMismatch(account.currency, input.currency);
    const wallet = await this.#wallets.customerWallet(principal.id, account.currency);
    return { cbs, account, wallet, amount };
  }

  /**
   * The engine checks channel and tier features only for the paying wallet; a top-up pays into the wallet, so the
   * same rule (the `bank_transfer` feature of the customer's tier on this channel) is checked here.
   */
  async #assertBankFeature(wallet: WalletRow, channel: string): Promise<void> {
    const { product, limits } = (await this.#wallets.facts(this.#db, [wallet], new Date())).get(wallet.id)!;
    if (!product.allowedChannels.includes(channel)) throw transactionErrors.channelNotAllowed(channel);
    if (!(limits.features[channel] ?? []).includes('bank_transfer'))
      throw transactionErrors.featureNotAllowed('bank_transfer', channel, limits.tier);
  }

  /** Step 1: the record in `processing`, and the answer a retry gets until the outcome is known. */
  async #begin(
    tx: Executor,
    input: {
      id: string;
      reference: string;
      plan: MovementPlan;
      steps: Step[];
      wallets: Map<string, WalletRow>;
      quote: { fee: bigint; tax: bigint };
      hold: { batchId: string; transferIds: string[] };
      context: RequestContext;
    },
  ): Promise<TransactionRow> {
    const { hold, context } = input;
    const record = await this.#transactions.engine.begin(tx, {
      ...input,
      metadata: { hold_batch_id: hold.batchId, hold_transfer_ids: hold.transferIds },
    });
    await input.plan.claim?.commit(
      tx,
      503,
      errorBody(bankErrors.outcomeUnknown(unknownDetails(record)), context.requestId ?? ''),
    );
    return record;
  }

  /** Step 3 on success: the record completed with the money's batch, the event, the stored 201. */
  async #complete(
    tx: Executor,
    record: TransactionRow,
    batchId: string,
    cbsTransactionId: string,
    claim: IdempotencyClaim | null,
  ) {
    const account = record.metadata?.bank_account_id;
    const view = await this.#transactions.engine.complete(tx, record, {
      batchId,
      metadata: { cbs_transaction_id: cbsTransactionId },
      event: { bank_account_id: typeof account === 'string' ? account : null },
      claim,
    });
    if (!view) throw bankErrors.settledElsewhere();
    return view;
  }

  /** Step 3 when the bank did not confirm: failed (hold voided) when nothing was booked, else left processing. */
  async #settleFailure(
    record: TransactionRow,
    failure: PostingFailure,
    claim: IdempotencyClaim | null,
    context: RequestContext,
    holds: { transferId: string }[] | null,
  ): Promise<never> {
    if (failure.kind === 'unknown') {
      await this.#transactions.engine.note(record.id, {
        cbs_outcome: 'unknown',
        cbs_failure: failure.cause,
        cbs_failed_at: now(),
      });
      throw bankErrors.outcomeUnknown(unknownDetails(record));
    }
    const refusal =
      failure.kind === 'rejected'
        ? bankErrors.rejected(record.id, failure.reason, failure.code)
        : bankErrors.cbsUnavailable({
            transaction_id: record.id,
            reference: record.reference,
            status: 'failed',
          });
    const [code, reason] =
      failure.kind === 'rejected' ? ['BANK_REJECTED', failure.reason] : ['CBS_UNAVAILABLE', refusal.message];
    await inTransaction(this.#db, async (tx) => {
      if (holds && holds.length > 0)
        await this.#ledger.resolve(tx, {
          key: `transaction:${record.id}:void`,
          code: record.type,
          reference: record.reference,
          pending: holds,
          void: true,
        });
      // The movement did not happen: it no longer counts against the customer's limits.
      const walletId = record.type === 'bank_topup' ? record.destinationWalletId : record.sourceWalletId;
      if (walletId)
        await this.#wallets.releaseUsage(
          tx,
          [{ walletId, direction: record.type === 'bank_topup' ? 'receive' : 'send', amount: record.amount }],
          record.createdAt,
        );
      await this.#transactions.engine.fail(tx, record, { code, reason });
      await claim?.commit(tx, refusal.statusCode, errorBody(refusal, context.requestId ?? ''));
    });
    throw refusal;
  }
}

/** What a bank movement's record says of the account (the number only by its last four digits). */
function bankDetails(account: LinkedAccountRow) {
  return {
    bank_account_id: account.id,
    bank_code: account.bankCode,
    bank_account_last4: account.accountNumberLast4,
  };
}

function unknownDetails(record: TransactionRow) {
  return { transaction_id: record.id, reference: record.reference, status: 'processing' };
}
