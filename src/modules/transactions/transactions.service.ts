/**
 * Payment use cases: P2P transfers to a wallet number or phone, teller cash deposit and withdrawal, quotes; the
 * authorization step (transaction PIN, and a one-time code bound to payee and amount above a threshold); and the
 * transaction history customers and staff read (receipts: transactions.receipts.ts).
 */
import type { RequestContext } from '../../platform/audit.ts';
import { crashPoint } from '../../platform/crashpoints.ts';
import type { Executor } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import {
  assertOwnership,
  decodeCursor,
  type Principal,
  paginate,
  staffOrCustomer,
} from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { currencyInfo, formatMoney, minorToJson, positiveAmount } from '../../platform/money.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { customerIdByPhone, normalisePhone } from '../customers/index.ts';
import type { LedgerService } from '../ledger/index.ts';
import type { SettingsService } from '../settings/index.ts';
import { type PartiesRead, type WalletRow, type WalletsService, walletErrors } from '../wallets/index.ts';
import type { Authorization, AuthorizationBinding, PaymentAuthorizer } from './transactions.authorize.ts';
import { Counterparties } from './transactions.counterparties.ts';
import type { PaymentEngine } from './transactions.engine.ts';
import { transactionErrors } from './transactions.errors.ts';
import type { MovementPlan, Step, TransactionRow } from './transactions.plan.ts';
import { findTransaction, listTransactions } from './transactions.repository.ts';
import type { TransactionState, TransactionType } from './transactions.tables.ts';
import {
  madeBy,
  SETTLED_STATES,
  settled,
  type transactionView,
  transactionViewFor,
} from './transactions.views.ts';

export interface TransferInput extends Authorization {
  source_wallet_id?: string;
  to_wallet_number?: string;
  to_phone?: string;
  amount: number;
  currency: string;
  narration?: string;
}

export interface CashInput {
  wallet_id: string;
  amount: number;
  currency: string;
  narration?: string;
  branch_code?: string;
}

/** A P2P recipient: a customer's wallet in the transfer's currency (merchants are paid through the merchant route, where
 * their status and discount fee apply). */
function isRecipient(row: WalletRow | undefined, currency: string): row is WalletRow {
  return row !== undefined && row.currency === currency && row.ownerType === 'customer';
}

export class TransactionsService {
  readonly #deps: Dependencies;
  readonly engine: PaymentEngine;
  readonly wallets: WalletsService;
  readonly #ledger: LedgerService;
  readonly authorizer: PaymentAuthorizer;
  readonly #settings: SettingsService;
  readonly #approvals: ApprovalService;
  /** Who a payment module's payments went to, for receipts and statements (bills registers its billers). */
  readonly counterparties = new Counterparties();

  constructor(options: {
    deps: Dependencies;
    engine: PaymentEngine;
    wallets: WalletsService;
    ledger: LedgerService;
    authorizer: PaymentAuthorizer;
    settings: SettingsService;
    approvals: ApprovalService;
  }) {
    this.#deps = options.deps;
    this.engine = options.engine;
    this.wallets = options.wallets;
    this.#ledger = options.ledger;
    this.authorizer = options.authorizer;
    this.#settings = options.settings;
    this.#approvals = options.approvals;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  /**
   * Validate (fast refusals, no PIN try spent), authorize (PIN, then the bound one-time code when the amount needs
   * one), then post. Customers must give their PIN; staff acting by permission are recorded as the initiator.
   */
  async run(
    plan: MovementPlan,
    principal: Principal,
    authorization: Authorization,
    context: RequestContext,
    known: WalletRow[] = [],
    read?: Pick<PartiesRead, 'states' | 'at'>,
  ) {
    const steps: Step[] = [{ state: 'initiated', at: new Date().toISOString() }];
    const checked = await this.engine.check(plan, known, read);
    crashPoint('transfer.after-prepare');
    steps.push({ state: 'validated', at: new Date().toISOString() });
    // Below the one-time-code threshold the PIN is compared inside the commit (one statement fewer); the refusals
    // of a wrong or locked PIN are the same.
    const pin =
      principal.type === 'customer'
        ? await this.authorizer.authorizeAtCommit(principal.id, bindingOf(plan), authorization)
        : null;
    steps.push({ state: 'authorized', at: new Date().toISOString() });
    crashPoint('transfer.after-pin');
    return this.engine.commit(plan, steps, context, checked, pin);
  }

  /** A recipient wallet by wallet number, or by the phone of a customer holding a wallet in the currency. */
  async recipient(
    input: { to_wallet_number?: string; to_phone?: string },
    currency: string,
  ): Promise<WalletRow> {
    if (Boolean(input.to_wallet_number) === Boolean(input.to_phone)) throw transactionErrors.oneRecipient();
    if (input.to_wallet_number) {
      const row = await this.wallets.byNumber(input.to_wallet_number);
      if (!isRecipient(row, currency)) throw walletErrors.recipientNotFound();
      return row;
    }
    let phone: string;
    try {
      phone = normalisePhone(input.to_phone!);
    } catch {
      throw transactionErrors.invalidPhone();
    }
    const customerId = await customerIdByPhone(this.#db, phone);
    const row = customerId ? await this.wallets.findCustomerWallet(customerId, currency) : undefined;
    if (!row) throw walletErrors.recipientNotFound();
    return row;
  }

  async #transferPlan(
    principal: Principal,
    input: TransferInput,
    channel: string,
    claim: IdempotencyClaim | null,
  ): Promise<MovementPlan & { known: WalletRow[]; read?: PartiesRead }> {
    currencyInfo(input.currency);
    const amount = positiveAmount(input.amount);
    let source: WalletRow;
    let destination: WalletRow;
    let read: PartiesRead | undefined;
    if (
      principal.type === 'customer' &&
      !input.source_wallet_id &&
      input.to_wallet_number &&
      !input.to_phone
    ) {
      // The app's usual transfer: the customer's wallet, the recipient's by number and both wallets' payment state
      // in one statement (the same refusals as the separate lookups below).
      read = await this.wallets.transferParties(principal.id, input.currency, input.to_wallet_number);
      if (!read.source) throw walletErrors.noWalletIn(input.currency);
      source = read.source;
      if (!isRecipient(read.destination, input.currency)) throw walletErrors.recipientNotFound();
      destination = read.destination;
    } else {
      source = await this.wallets.payingWallet(principal, input.source_wallet_id, input.currency);
      destination = await this.recipient(input, input.currency);
    }
    if (!(await this.#settings.get('features.p2p_transfers')))
      throw transactionErrors.disabled('p2p_transfers');
    return {
      type: 'p2p',
      channel,
      initiator: { type: principal.type, id: principal.id },
      source: { kind: 'wallet', walletId: source.id },
      destination: { kind: 'wallet', walletId: destination.id },
      amount,
      currency: input.currency,
      feature: 'p2p',
      narration: input.narration ?? null,
      claim,
      known: [source, destination],
      ...(read ? { read } : {}),
    };
  }

  async transfer(
    principal: Principal,
    input: TransferInput,
    channel: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const { known, read, ...plan } = await this.#transferPlan(principal, input, channel, claim);
    return this.run(plan, principal, input, context, known, read);
  }

  /** Fee and total of a transfer before the customer confirms it. */
  async quote(principal: Principal, input: TransferInput, channel: string) {
    const { known, read, ...plan } = await this.#transferPlan(principal, input, channel, null);
    const { quote } = await this.engine.check(plan, known, read);
    const destination = known[1]!;
    const thresholds = await this.#settings.get('payments.otp_threshold_minor');
    const threshold = thresholds[input.currency];
    return {
      amount: plan.amount,
      currency: plan.currency,
      fee: quote.fee,
      tax: quote.tax,
      total: quote.total,
      total_display: formatMoney(quote.total, plan.currency),
      recipient_wallet_number: destination.walletNumber,
      otp_required: threshold !== undefined && plan.amount >= BigInt(threshold),
    };
  }

  async #tillAccount(branch: string, currency: string): Promise<string> {
    return this.#ledger.houseAccount(`branch_cash:${branch}:${currency}`, {
      name: `Branch cash ${branch}`,
      kind: 'asset',
      deferred: false,
      creditsMustNotExceedDebits: true,
    });
  }

  /** Cash paid in at a branch: the till (an asset) is debited, the wallet credited. */
  async cashDeposit(
    principal: Principal,
    input: CashInput,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const amount = positiveAmount(input.amount);
    currencyInfo(input.currency);
    const till = await this.#tillAccount(input.branch_code ?? 'HQ', input.currency);
    return this.run(
      {
        type: 'cash_deposit',
        channel: 'branch',
        initiator: { type: 'user', id: principal.id },
        source: { kind: 'account', accountId: till },
        destination: { kind: 'wallet', walletId: input.wallet_id },
        amount,
        currency: input.currency,
        narration: input.narration ?? null,
        metadata: { branch_code: input.branch_code ?? 'HQ', teller_id: principal.id },
        claim,
      },
      principal,
      {},
      context,
    );
  }

  /** Cash paid out at a branch; at or above the configured amount a second staff member must approve it. */
  async cashWithdraw(
    principal: Principal,
    input: CashInput,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const amount = positiveAmount(input.amount);
    currencyInfo(input.currency);
    const thresholds = await this.#settings.get('payments.cash_withdrawal_approval_threshold_minor');
    const threshold = thresholds[input.currency];
    // Money inside jsonb is a decimal string of minor units: so is the amount in the request's payload.
    const payload = { ...input, amount: minorToJson(amount), teller_id: principal.id };
    // A currency the setting does not list fails closed: a second staff member approves every withdrawal in it.
    const large = threshold === undefined || amount >= BigInt(threshold);
    if (!large && !(await this.#approvals.isRequired('wallet.cash_withdrawal')))
      return { status: 201 as const, body: await this.executeCashWithdrawal(payload, context, claim) };
    const outcome = await this.#approvals.run<typeof payload, ReturnType<typeof transactionView>>(
      'wallet.cash_withdrawal',
      payload,
      {
        summary: `Cash withdrawal of ${formatMoney(amount, input.currency)}`,
        entityType: 'wallet',
        entityId: input.wallet_id,
      },
      context,
      { always: true, claim },
    );
    if (outcome.kind === 'done') return { status: 201 as const, body: outcome.result };
    return { status: 202 as const, body: outcome.request };
  }

  /** The withdrawal itself (directly, or when a checker approves it). */
  async executeCashWithdrawal(
    payload: Omit<CashInput, 'amount'> & { amount: number | string; teller_id: string },
    context: RequestContext,
    claim: IdempotencyClaim | null = null,
  ) {
    const till = await this.#tillAccount(payload.branch_code ?? 'HQ', payload.currency);
    return this.engine.commit(
      {
        type: 'cash_withdrawal',
        channel: 'branch',
        initiator: { type: 'user', id: payload.teller_id },
        source: { kind: 'wallet', walletId: payload.wallet_id },
        destination: { kind: 'account', accountId: till },
        amount: BigInt(payload.amount),
        currency: payload.currency,
        feeRule: 'cash_withdrawal',
        narration: payload.narration ?? null,
        metadata: {
          branch_code: payload.branch_code ?? 'HQ',
          teller_id: payload.teller_id,
          approved_by: context.actor.id,
        },
        claim,
      },
      [
        { state: 'initiated', at: new Date().toISOString() },
        { state: 'validated', at: new Date().toISOString() },
        { state: 'authorized', at: new Date().toISOString() },
      ],
      context,
    );
  }

  async row(id: string): Promise<TransactionRow> {
    const row = await findTransaction(this.#db, id);
    if (!row) throw transactionErrors.notFound();
    return row;
  }

  /**
   * A transaction the principal may see: customers only their own side of it, and a movement they did not make only
   * once settled — a payer's refused attempt is not the payee's business (others answer 404, as for a random id).
   */
  async get(id: string, principal: Principal) {
    const row = await this.row(id);
    if (principal.type === 'customer' && !madeBy(row, principal.id)) {
      if (!settled(row)) throw transactionErrors.notFound();
      if (row.counterpartyCustomerId !== principal.id) {
        const destination = row.destinationWalletId ? await this.wallets.row(row.destinationWalletId) : null;
        if (destination?.ownerType !== 'merchant' || !(await this.wallets.visibleTo(destination, principal)))
          throw transactionErrors.notFound();
      }
    }
    return transactionViewFor(row, staffOrCustomer(principal));
  }

  async list(
    filters: {
      customer_id?: string;
      wallet_id?: string;
      type?: TransactionType;
      status?: TransactionState;
      reference?: string;
      from?: string;
      to?: string;
      limit?: number;
      cursor?: string;
    },
    principal: Principal,
  ) {
    const limit = filters.limit ?? 20;
    let customerId = principal.type === 'customer' ? principal.id : filters.customer_id;
    if (principal.type === 'customer' && filters.customer_id) assertOwnership(principal, filters.customer_id);
    if (principal.type === 'customer' && filters.wallet_id) {
      // A merchant's owner lists every payment into the merchant wallet; anyone else's wallet answers 404.
      const wallet = await this.wallets.row(filters.wallet_id).catch(() => null);
      if (!wallet || !(await this.wallets.visibleTo(wallet, principal)))
        throw commonErrors.notFound('Wallet');
      if (wallet.ownerType === 'merchant') customerId = undefined;
    }
    const position = decodeCursor(filters.cursor, ['id'] as const);
    const rows = await listTransactions(
      this.#db,
      {
        partyCustomerId: customerId,
        // A customer sees the movements they made in every state, anyone else's only settled (see `get`).
        ...(principal.type === 'customer' ? { visibleToCustomerId: principal.id } : {}),
        settledStates: [...SETTLED_STATES],
        walletId: filters.wallet_id,
        type: filters.type,
        status: filters.status,
        reference: filters.reference?.toUpperCase(),
        ...(filters.from ? { from: new Date(filters.from) } : {}),
        ...(filters.to ? { to: new Date(filters.to) } : {}),
        beforeId: position?.id,
      },
      limit + 1,
    );
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return {
      items: page.items.map((row) => transactionViewFor(row, staffOrCustomer(principal))),
      next_cursor: page.next_cursor,
    };
  }
}

function bindingOf(plan: MovementPlan): AuthorizationBinding {
  const party = (value: MovementPlan['source']) =>
    value.kind === 'wallet' ? value.walletId : value.accountId;
  return {
    type: plan.type,
    source: party(plan.source),
    payee: party(plan.destination),
    amount: plan.amount,
    currency: plan.currency,
    detail: [plan.metadata?.bill_reference, plan.metadata?.qr_id].filter(Boolean).join(':'),
  };
}
