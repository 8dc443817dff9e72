/**
 * Linked bank accounts: a customer links an account (number sealed, blind-indexed, last four for display), proves
 * it is theirs, and may unlink it. Two proofs: the core banking system's account holder name matches the customer
 * (name_match), or the customer reads back the amount of a small deposit we sent to it (micro_deposit; attempts
 * are counted before comparing, three at most).
 */
import { randomInt } from 'node:crypto';
import type { AccountInquiry, CoreBankingPort } from '../../integrations/fineract/fineract.client.ts';
import { nameMatches } from '../../integrations/fineract/fineract.client.ts';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { constantTimeEqualHex, keyedHash, openEnvelope, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { assertOwnership, decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo } from '../../platform/money.ts';
import { customerNames, customerStanding, lockLiveCustomer } from '../customers/index.ts';
import type { LedgerService } from '../ledger/index.ts';
import { newReference } from '../transactions/index.ts';
import { cbsRead, classifyPostingFailure, postingDate } from './banking.cbs.ts';
import { bankErrors } from './banking.errors.ts';
import {
  activeLinkCount,
  claimMicroDeposit,
  countAttempt,
  insertLinkedAccount,
  type LinkedAccountRow,
  linkedAccountById,
  linkHistory,
  listLinkedAccounts,
  unlinkAccount,
  updatePending,
} from './banking.repository.ts';

export type { LinkedAccountRow } from './banking.repository.ts';

type Status = LinkedAccountRow['status'];

/** Links of one bank account number in this window (per customer), and failed verifications (by anyone). */
const LINK_WINDOW_DAYS = 30;
const MAX_LINKS_PER_WINDOW = 3;
const MAX_FAILED_LINKS = 2;
/** Accounts a customer may have linked (pending, verified or failed) at once. */
export const MAX_LINKED_ACCOUNTS = 5;
/** Confirmations of a micro deposit before the account is marked failed. */
export const MAX_MICRO_DEPOSIT_ATTEMPTS = 3;
/** How long a hold for a bank posting whose outcome is unknown may wait for reconciliation. */
export const BANK_HOLD_DAYS = 30;

export function linkedAccountView(row: LinkedAccountRow) {
  return {
    id: row.id,
    customer_id: row.customerId,
    bank_code: row.bankCode,
    account_number_masked: `****${row.accountNumberLast4}`,
    account_number_last4: row.accountNumberLast4,
    account_name: row.accountName,
    currency: row.currency,
    status: row.status,
    verification_method: row.verificationMethod,
    verification_attempts: row.verificationAttempts,
    verified_at: row.verifiedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

type VerificationResult = 'verified' | 'failed' | 'micro_deposit_sent' | 'amount_mismatch';

export interface LinkInput {
  customer_id?: string;
  bank_code: string;
  account_number: string;
  account_name: string;
  currency: string;
}

export class LinkedAccountsService {
  readonly #deps: Dependencies;
  readonly #ledger: LedgerService;
  readonly #cbs: CoreBankingPort | null;

  constructor(deps: Dependencies, ledger: LedgerService, cbs: CoreBankingPort | null) {
    this.#deps = deps;
    this.#ledger = ledger;
    this.#cbs = cbs;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  /** The core banking system, or 503 CBS_NOT_CONFIGURED. */
  cbs(): CoreBankingPort {
    if (!this.#cbs) throw bankErrors.notConfigured();
    return this.#cbs;
  }

  #seal(id: string, accountNumber: string): string {
    return JSON.stringify(sealEnvelope(this.#deps.keys, Buffer.from(accountNumber), `linked-account:${id}`));
  }

  accountNumberOf(row: LinkedAccountRow): string {
    return openEnvelope(
      this.#deps.keys,
      JSON.parse(row.accountNumberSealed),
      `linked-account:${row.id}`,
    ).toString('utf8');
  }

  #microDepositHash(id: string, amount: bigint): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, `micro-deposit:${id}`, amount.toString());
  }

  async link(principal: Principal, input: LinkInput, context: RequestContext) {
    this.cbs();
    const customerId = input.customer_id ?? (principal.type === 'customer' ? principal.id : undefined);
    if (!customerId) throw bankErrors.customerRequired();
    assertOwnership(principal, customerId);
    currencyInfo(input.currency);
    const id = uuidv7();
    const accountIndex = keyedHash(this.#deps.config.HMAC_PEPPER, 'linked-account', input.account_number);
    try {
      return await inTransaction(this.#db, async (tx) => {
        // The customer row is the lock that keeps the per-customer cap exact under parallel links.
        await lockLiveCustomer(tx, customerId);
        const customer = await customerStanding(tx, customerId);
        if (!customer) throw bankErrors.customerUnavailable('unknown');
        if (customer.erasedAt || customer.status === 'closed' || customer.status === 'suspended')
          throw bankErrors.customerUnavailable(customer.erasedAt ? 'erased' : customer.status);
        if ((await activeLinkCount(tx, customerId)) >= MAX_LINKED_ACCOUNTS)
          throw bankErrors.linkLimit(MAX_LINKED_ACCOUNTS);
        await this.#assertLinkable(tx, customerId, input.bank_code, accountIndex);
        const row = await insertLinkedAccount(tx, {
          id,
          customerId,
          bankCode: input.bank_code,
          accountNumberSealed: this.#seal(id, input.account_number),
          accountNumberIndex: accountIndex,
          accountNumberLast4: input.account_number.slice(-4),
          accountName: input.account_name,
          currency: input.currency,
          status: 'pending',
        });
        const view = linkedAccountView(row);
        await writeAudit(tx, context, {
          action: 'bank_account.link',
          entityType: 'linked_bank_account',
          entityId: id,
          after: view,
        });
        return view;
      });
    } catch (error) {
      if (violatedConstraint(error) === 'linked_bank_accounts_active_key') throw bankErrors.alreadyLinked();
      throw error;
    }
  }

  /**
   * One bank account belongs to one customer here, and verification cannot be retried without end: otherwise anyone
   * who knows an account number could link it and guess the micro-deposit (1–99 cents, 3 tries) round after round,
   * then pull money from it. Counted over a window on every link of the number, unlinked and failed ones included.
   */
  async #assertLinkable(
    tx: Executor,
    customerId: string,
    bankCode: string,
    accountIndex: string,
  ): Promise<void> {
    const since = new Date(Date.now() - LINK_WINDOW_DAYS * 86_400_000);
    const history = await linkHistory(tx, { customerId, bankCode, accountIndex, since });
    if (history.elsewhere) throw bankErrors.linkedElsewhere();
    if (history.failures >= MAX_FAILED_LINKS || history.attempts >= MAX_LINKS_PER_WINDOW)
      throw bankErrors.linkAttemptsExhausted(LINK_WINDOW_DAYS);
  }

  /** A linked account the principal may reach: customers only their own (others answer 404). */
  async row(principal: Principal, id: string, executor: Executor = this.#db): Promise<LinkedAccountRow> {
    const row = await linkedAccountById(executor, id);
    if (!row || (principal.type === 'customer' && row.customerId !== principal.id))
      throw bankErrors.notFound();
    return row;
  }

  async get(principal: Principal, id: string) {
    return linkedAccountView(await this.row(principal, id));
  }

  /** A verified account of the principal, with the CBS id postings go to. */
  async verifiedRow(
    principal: Principal,
    id: string,
  ): Promise<LinkedAccountRow & { externalAccountId: string }> {
    const row = await this.row(principal, id);
    if (row.status === 'unlinked') throw bankErrors.notFound();
    if (row.status !== 'verified' || !row.externalAccountId) throw bankErrors.notVerified(row.status);
    return row as LinkedAccountRow & { externalAccountId: string };
  }

  async list(
    principal: Principal,
    query: { customer_id?: string; status?: Status; limit?: number; cursor?: string },
  ) {
    if (query.customer_id) assertOwnership(principal, query.customer_id);
    const customerId = principal.type === 'customer' ? principal.id : query.customer_id;
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    // Unlinked accounts are history: listed only when asked for.
    const rows = await listLinkedAccounts(
      this.#db,
      { customerId, status: query.status, beforeId: position?.id },
      limit + 1,
    );
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(linkedAccountView), next_cursor: page.next_cursor };
  }

  async unlink(principal: Principal, id: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const before = await this.row(principal, id, tx);
      if (before.status === 'unlinked') throw bankErrors.notFound();
      const row = await unlinkAccount(tx, id);
      if (!row) throw bankErrors.notFound();
      await writeAudit(tx, context, {
        action: 'bank_account.unlink',
        entityType: 'linked_bank_account',
        entityId: id,
        before: { status: before.status },
        after: { status: 'unlinked' },
      });
      return linkedAccountView(row);
    });
  }

  async verify(
    principal: Principal,
    input: { bank_account_id: string; method: 'name_match' | 'micro_deposit'; amount?: number },
    context: RequestContext,
  ) {
    const cbs = this.cbs();
    const row = await this.row(principal, input.bank_account_id);
    if (row.status === 'unlinked') throw bankErrors.notFound();
    if (row.status !== 'pending') throw bankErrors.verificationClosed(row.status);
    if (input.method === 'name_match') return this.#nameMatch(cbs, row, context);
    if (input.amount === undefined) return this.#sendMicroDeposit(cbs, row, context);
    return this.#confirmMicroDeposit(row, BigInt(input.amount), context);
  }

  #inquiryProblem(row: LinkedAccountRow, inquiry: AccountInquiry | null): string | null {
    if (!inquiry) return 'account_not_found';
    if (!inquiry.active) return 'account_not_active';
    if (inquiry.currency !== row.currency) return 'currency_mismatch';
    return null;
  }

  async #holderName(customerId: string): Promise<string> {
    const customer = (await customerNames(this.#db, [customerId])).get(customerId);
    if (!customer) return '';
    if (customer.customerType === 'business' && customer.businessName) return customer.businessName;
    return [customer.firstName, customer.middleName, customer.lastName].filter(Boolean).join(' ');
  }

  /** Moves a pending account to its outcome, only if it is still pending (a parallel check may have won). */
  async #settle(
    row: LinkedAccountRow,
    outcome: { status: 'verified' | 'failed'; reason: string | null },
    method: 'name_match' | 'micro_deposit',
    context: RequestContext,
    extra: Partial<Pick<LinkedAccountRow, 'externalAccountId' | 'microDepositHash'>> = {},
  ): Promise<LinkedAccountRow> {
    return inTransaction(this.#db, async (tx) => {
      const updated = await updatePending(tx, row.id, {
        status: outcome.status,
        verificationMethod: method,
        ...(outcome.status === 'verified' ? { verifiedAt: new Date() } : {}),
        ...extra,
      });
      if (!updated) {
        const current = await linkedAccountById(tx, row.id);
        throw bankErrors.verificationClosed(current?.status ?? 'unlinked');
      }
      await writeAudit(tx, context, {
        action: outcome.status === 'verified' ? 'bank_account.verify' : 'bank_account.verification_failed',
        entityType: 'linked_bank_account',
        entityId: row.id,
        before: { status: row.status },
        after: { status: outcome.status, method, reason: outcome.reason },
      });
      return updated;
    });
  }

  #result(
    row: LinkedAccountRow,
    result: VerificationResult,
    reason: string | null,
    attemptsLeft: number | null,
  ) {
    return { result, reason, attempts_left: attemptsLeft, bank_account: linkedAccountView(row) };
  }

  /** Verified when the CBS holds the account, active, in the currency, under the customer's name. */
  async #nameMatch(cbs: CoreBankingPort, row: LinkedAccountRow, context: RequestContext) {
    const inquiry = await cbsRead(() => cbs.inquireAccount(this.accountNumberOf(row)));
    let reason = this.#inquiryProblem(row, inquiry);
    if (!reason && !nameMatches(await this.#holderName(row.customerId), inquiry!.clientName))
      reason = 'name_mismatch';
    const settled = await this.#settle(
      row,
      { status: reason ? 'failed' : 'verified', reason },
      'name_match',
      context,
      reason ? {} : { externalAccountId: String(inquiry!.savingsAccountId) },
    );
    return this.#result(settled, reason ? 'failed' : 'verified', reason, null);
  }

  /**
   * Sends 1–99 minor units to the account through the CBS. Money leaves our bank settlement account: the ledger
   * holds it (verification expense ← settlement) before the call, posts it when the bank confirms, voids it when
   * the bank refuses, and leaves it held when the answer is unknown (reconciliation settles it).
   */
  async #sendMicroDeposit(cbs: CoreBankingPort, row: LinkedAccountRow, context: RequestContext) {
    if (row.microDepositHash) throw bankErrors.microDepositSent();
    const inquiry = await cbsRead(() => cbs.inquireAccount(this.accountNumberOf(row)));
    const problem = this.#inquiryProblem(row, inquiry);
    if (problem) {
      const failed = await this.#settle(row, { status: 'failed', reason: problem }, 'micro_deposit', context);
      return this.#result(failed, 'failed', problem, null);
    }
    const amount = BigInt(randomInt(1, 100));
    const reference = newReference();
    const expense = await this.#ledger.houseAccount(`verification_expense:${row.currency}`, {
      name: 'Account verification cost',
      kind: 'expense',
      deferred: true,
    });
    const settlement = await this.#ledger.houseAccount(`settlement:${row.currency}`);
    const hold = await inTransaction(this.#db, async (tx) => {
      const claimed = await claimMicroDeposit(tx, row.id, {
        microDepositHash: this.#microDepositHash(row.id, amount),
        externalAccountId: String(inquiry!.savingsAccountId),
      });
      if (!claimed) throw bankErrors.microDepositSent();
      const posted = await this.#ledger.post(tx, {
        key: `bank-verification:${row.id}`,
        code: 'account_verification',
        reference,
        metadata: { linked_bank_account_id: row.id },
        legs: [{ debit: expense, credit: settlement, amount, code: 'micro_deposit' }],
        pendingUntil: new Date(Date.now() + BANK_HOLD_DAYS * 86_400_000),
      });
      await writeAudit(tx, context, {
        action: 'bank_account.micro_deposit_sent',
        entityType: 'linked_bank_account',
        entityId: row.id,
        after: { reference },
      });
      return posted;
    });
    const pending = hold.transferIds.map((transferId) => ({ transferId }));
    try {
      await cbs.deposit(Number(inquiry!.savingsAccountId), amount, currencyInfo(row.currency).exponent, {
        reference,
        date: postingDate(),
      });
    } catch (error) {
      const failure = classifyPostingFailure(error);
      if (failure.kind === 'unknown')
        throw bankErrors.outcomeUnknown({ bank_account_id: row.id, reference, status: 'pending' });
      await inTransaction(this.#db, (tx) =>
        this.#ledger.resolve(tx, {
          key: `bank-verification:${row.id}:void`,
          code: 'account_verification',
          reference,
          pending,
          void: true,
        }),
      );
      if (failure.kind === 'refused') {
        // Nothing reached the account: let the customer start again once the CBS is reachable.
        await updatePending(this.#db, row.id, { microDepositHash: null, verificationMethod: null });
        throw bankErrors.cbsUnavailable();
      }
      const failed = await this.#settle(
        row,
        { status: 'failed', reason: 'deposit_rejected' },
        'micro_deposit',
        context,
      );
      return this.#result(failed, 'failed', 'deposit_rejected', null);
    }
    await inTransaction(this.#db, (tx) =>
      this.#ledger.resolve(tx, {
        key: `bank-verification:${row.id}:post`,
        code: 'account_verification',
        reference,
        pending,
        void: false,
      }),
    );
    return this.#result(await this.#reload(row.id), 'micro_deposit_sent', null, MAX_MICRO_DEPOSIT_ATTEMPTS);
  }

  async #reload(id: string): Promise<LinkedAccountRow> {
    const row = await linkedAccountById(this.#db, id);
    if (!row) throw bankErrors.notFound();
    return row;
  }

  /** Counts the attempt first (a guarded update), then compares in constant time. */
  async #confirmMicroDeposit(row: LinkedAccountRow, amount: bigint, context: RequestContext) {
    if (row.verificationMethod !== 'micro_deposit' || !row.microDepositHash)
      throw bankErrors.noMicroDeposit();
    const counted = await countAttempt(this.#db, row.id, MAX_MICRO_DEPOSIT_ATTEMPTS);
    if (!counted) {
      // Settled meanwhile by a parallel confirmation, or every attempt spent without the failure recorded yet.
      const current = await this.#reload(row.id);
      if (current.status !== 'pending') throw bankErrors.verificationClosed(current.status);
      const failed = await this.#settle(
        current,
        { status: 'failed', reason: 'too_many_attempts' },
        'micro_deposit',
        context,
        { microDepositHash: null },
      );
      return this.#result(failed, 'failed', 'too_many_attempts', 0);
    }
    if (constantTimeEqualHex(this.#microDepositHash(row.id, amount), row.microDepositHash)) {
      const verified = await this.#settle(
        counted,
        { status: 'verified', reason: null },
        'micro_deposit',
        context,
        { microDepositHash: null },
      );
      return this.#result(verified, 'verified', null, null);
    }
    const attemptsLeft = MAX_MICRO_DEPOSIT_ATTEMPTS - counted.verificationAttempts;
    if (attemptsLeft > 0) return this.#result(counted, 'amount_mismatch', null, attemptsLeft);
    const failed = await this.#settle(
      counted,
      { status: 'failed', reason: 'too_many_attempts' },
      'micro_deposit',
      context,
      { microDepositHash: null },
    );
    return this.#result(failed, 'failed', 'too_many_attempts', 0);
  }
}
