/**
 * Wallets: one ledger account each (same id), opened per customer and currency on a product; balances come from
 * the ledger; statements are the account's journal lines with their running balance. Wallet rows are the lock
 * every posting that moves a wallet's money takes first (in id order), which keeps usage counters and limits exact.
 * Their SQL is in wallets.repository.ts.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import {
  type Executor,
  inTransaction,
  perDatabase,
  readRetried,
  violatedConstraint,
} from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, formatMoney } from '../../platform/money.ts';
import { localIsoTime } from '../../platform/pdf.ts';
import { customerStanding } from '../customers/index.ts';
import {
  type AccountRow,
  type Balance,
  balanceBefore,
  balanceOf,
  journalLines,
  type LedgerService,
} from '../ledger/index.ts';
import { WalletDocuments } from './wallets.documents.ts';
import { walletErrors } from './wallets.errors.ts';
import {
  addUsage,
  type PartiesRead,
  readFacts,
  readTransferParties,
  releaseUsage,
  type UsageEntry,
  type WalletFacts,
  type WalletState,
} from './wallets.facts.ts';
import type { ProductsService } from './wallets.products.ts';
import {
  customerWalletId,
  insertWallet,
  listWallets,
  lockWallets,
  type OwnerCondition,
  preparedVisibleBalance,
  preparedWalletReads,
  setWalletStatus,
  visibleThroughOwnerConditions,
  type WalletRow,
  walletById,
  walletByNumber,
  walletsById,
} from './wallets.repository.ts';

export type { OwnerCondition, WalletRow } from './wallets.repository.ts';

export function walletView(row: WalletRow, account: AccountRow, productCode: string) {
  const balance = balanceOf(account, account.debitsPosted, account.creditsPosted);
  return {
    id: row.id,
    wallet_number: row.walletNumber,
    owner_type: row.ownerType,
    customer_id: row.customerId,
    merchant_id: row.merchantId,
    currency: row.currency,
    product_id: row.productId,
    product_code: productCode,
    status: row.status,
    status_reason: row.statusReason,
    balance: balance.balance,
    available_balance: balance.available,
    pending_debits: balance.pendingDebits,
    pending_credits: balance.pendingCredits,
    balance_display: formatMoney(balance.balance, row.currency),
    available_balance_display: formatMoney(balance.available, row.currency),
    created_at: row.createdAt.toISOString(),
  };
}

export type WalletView = ReturnType<typeof walletView>;

/**
 * Lines that are not the payment itself say what they are, whatever the payment's narration. A dispute hold shows
 * only when it is captured for a refund (a pending hold writes no journal line; a released one never posts).
 */
const LEG_LABELS: Record<string, string> = {
  fee: 'Fee',
  tax: 'Excise duty',
  hold: 'Dispute refund: the amount held',
};

export class WalletsService {
  readonly #deps: Dependencies;
  readonly ledger: LedgerService;
  readonly products: ProductsService;
  /** Letterhead, time zones and names for receipts and statements. */
  readonly documents: WalletDocuments;
  readonly #ownerConditions: OwnerCondition[] = [];

  constructor(deps: Dependencies, ledger: LedgerService, products: ProductsService) {
    this.#deps = deps;
    this.ledger = ledger;
    this.products = products;
    this.documents = new WalletDocuments(deps.database.db);
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  readonly #prepared = perDatabase(preparedWalletReads);

  get #reads(): ReturnType<typeof preparedWalletReads> {
    return this.#prepared(this.#db);
  }

  /** Built at the first balance read, once every module has registered its owner conditions. */
  #balanceRead = perDatabase((db) => preparedVisibleBalance(db, [...this.#ownerConditions]));

  async create(
    input: { customer_id: string; currency: string; product_id?: string },
    principal: Principal,
    context: RequestContext,
    claim: IdempotencyClaim | null,
  ): Promise<WalletView> {
    assertOwnership(principal, input.customer_id);
    currencyInfo(input.currency);
    const product = input.product_id
      ? await this.products.get(input.product_id)
      : await this.products.defaultFor(input.currency);
    if (product.currency !== input.currency) throw walletErrors.productCurrency();
    // Customers open the currency's default product; other products (lower fees, higher limits) are staff's choice.
    if (principal.type === 'customer' && input.product_id && !product.isDefault)
      throw commonErrors.forbidden('Only staff open wallets on a product other than the default');
    if (!product.active) throw walletErrors.noProduct(input.currency);
    await this.ledger.ensureHouseAccounts(input.currency);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await inTransaction(this.#db, async (tx) => {
          const customer = await customerStanding(tx, input.customer_id);
          if (!customer) throw commonErrors.notFound('Customer');
          if (customer.erasedAt || customer.status === 'closed' || customer.status === 'suspended')
            throw walletErrors.customerUnavailable(customer.erasedAt ? 'erased' : customer.status);
          const existing = await customerWalletId(tx, input.customer_id, input.currency);
          if (existing) throw walletErrors.exists(existing);
          const view = await this.#open(
            tx,
            { ownerType: 'customer', customerId: input.customer_id },
            input.currency,
            product.id,
            product.code,
          );
          await writeAudit(tx, context, {
            action: 'wallet.create',
            entityType: 'wallet',
            entityId: view.id,
            after: { currency: view.currency, product: product.code },
          });
          await claim?.commit(tx, 201, view);
          return view;
        });
      } catch (error) {
        // A wallet number collision (one in 10^11) just draws another number.
        if (violatedConstraint(error) === 'wallets_number_key' && attempt < 3) continue;
        if (violatedConstraint(error) === 'wallets_customer_currency_key') throw walletErrors.exists('');
        throw error;
      }
    }
  }

  /** Opens a wallet and its ledger account inside the caller's transaction (customers and merchants). */
  async #open(
    tx: Executor,
    owner: { ownerType: 'customer'; customerId: string } | { ownerType: 'merchant'; merchantId: string },
    currency: string,
    productId: string,
    productCode: string,
  ): Promise<WalletView> {
    const id = uuidv7();
    const account = await this.ledger.createAccount(tx, {
      id,
      name: `Wallet ${owner.ownerType}`,
      currency,
      kind: 'liability',
      debitsMustNotExceedCredits: true,
    });
    const row = await insertWallet(tx, {
      id,
      walletNumber: humanNumber('7', 11),
      ...owner,
      currency,
      productId,
      status: 'active',
    });
    return walletView(row, account, productCode);
  }

  /**
   * The currency's default wallet for a customer created in the caller's transaction (self-registration's
   * activation); every query runs on `tx`, so a failure later in that transaction leaves no wallet.
   */
  async openCustomerWallet(tx: Executor, customerId: string, currency: string): Promise<WalletView> {
    const product = await this.products.defaultFor(currency, tx);
    // The house accounts of every product's currency exist since the module was built (index.ts).
    return this.#open(tx, { ownerType: 'customer', customerId }, currency, product.id, product.code);
  }

  /** Inside the caller's transaction (merchant registration); every query runs on `tx`. */
  async openMerchantWallet(tx: Executor, merchantId: string, currency: string): Promise<WalletView> {
    const product = await this.products.defaultFor(currency, tx);
    return this.#open(tx, { ownerType: 'merchant', merchantId }, currency, product.id, product.code);
  }

  /**
   * Other owners of wallets (a merchant's owner sees the merchant wallet): modules that own such wallets register a
   * condition over the wallet's columns (SQL, so the balance read checks it in its one statement), so this module
   * needs no knowledge of merchants. Registered while the modules are built, before the first request.
   */
  addOwnerCondition(condition: OwnerCondition): void {
    this.#ownerConditions.push(condition);
    this.#balanceRead = perDatabase((db) => preparedVisibleBalance(db, [...this.#ownerConditions]));
  }

  /** Staff pass (their permission was checked); customers see their own wallets and those they own otherwise. */
  async visibleTo(row: WalletRow, principal: Pick<Principal, 'type' | 'id'>): Promise<boolean> {
    if (principal.type !== 'customer' || row.customerId === principal.id) return true;
    return visibleThroughOwnerConditions(this.#db, row.id, principal.id, this.#ownerConditions);
  }

  async row(id: string, executor: Executor = this.#db): Promise<WalletRow> {
    const row =
      executor === this.#db
        ? (await readRetried(() => this.#reads.byId.execute({ id })))[0]
        : await walletById(executor, id);
    if (!row) throw walletErrors.notFound();
    return row;
  }

  /** Wallet rows by id, in one statement (ids that name no wallet are left out). */
  rows(ids: readonly string[], executor: Executor = this.#db): Promise<WalletRow[]> {
    return walletsById(executor, ids);
  }

  /** The wallet with this wallet number, if any. */
  byNumber(walletNumber: string): Promise<WalletRow | undefined> {
    return walletByNumber(this.#db, walletNumber);
  }

  /** A customer's own wallet in a currency, if they have one. */
  async findCustomerWallet(customerId: string, currency: string): Promise<WalletRow | undefined> {
    const [row] = await readRetried(() => this.#reads.ofCustomer.execute({ customerId, currency }));
    return row;
  }

  /** A customer's own wallet in a currency (404 "You have no KES wallet" when there is none). */
  async customerWallet(customerId: string, currency: string): Promise<WalletRow> {
    const row = await this.findCustomerWallet(customerId, currency);
    if (!row) throw walletErrors.noWalletIn(currency);
    return row;
  }

  /**
   * The wallet a customer's payment (transfer, merchant, bill) comes from: the one named (a customer may name only
   * their own; others answer 404), or the customer's wallet in the currency. Staff are refused: these payments are
   * authorised by the customer's PIN, which staff do not give, so staff could otherwise move any customer's money with
   * `transaction:create` alone. Staff move a customer's money by `POST /api/v1/wallet/transaction/staff-transfer`
   * (its own permission, a reason, maker-checker above a threshold; ADR 0007).
   */
  async payingWallet(
    principal: Principal,
    walletId: string | undefined,
    currency: string,
  ): Promise<WalletRow> {
    if (principal.type !== 'customer') throw walletErrors.staffPayment();
    if (walletId) {
      const row = await this.row(walletId);
      if (row.customerId !== principal.id) throw walletErrors.notFound();
      return row;
    }
    return this.customerWallet(principal.id, currency);
  }

  /** A wallet the principal may see: customers only their own (others answer 404). */
  async get(id: string, principal: Principal): Promise<WalletView> {
    const row = await this.row(id);
    if (!(await this.visibleTo(row, principal))) throw walletErrors.notFound();
    return this.view(row);
  }

  async view(row: WalletRow, executor: Executor = this.#db): Promise<WalletView> {
    const [account] = await this.ledger.accounts([row.id], executor);
    const product = await this.products.get(row.productId, executor);
    return walletView(row, account!, product.code);
  }

  /**
   * The wallet, its ledger account's balance and holds, and whether the principal may see it (`visibleTo`), in one
   * statement (a wallet's account has the wallet's id). One the principal may not see is a 404, like a missing one.
   */
  async balance(id: string, principal: Principal): Promise<Balance & { currency: string }> {
    const read = this.#balanceRead(this.#db);
    const viewer = principal.type === 'customer' ? principal.id : null;
    const found = await readRetried(() => read(id, viewer));
    if (!found) throw walletErrors.notFound();
    return { ...found.balance, currency: found.row.currency };
  }

  async list(
    filters: {
      customer_id?: string;
      merchant_id?: string;
      currency?: string;
      status?: WalletRow['status'];
      limit?: number;
      cursor?: string;
    },
    principal: Principal,
  ) {
    const limit = filters.limit ?? 20;
    // Naming another customer is a 404, as in every customer-scoped list (not the caller's own wallets).
    if (principal.type === 'customer' && filters.customer_id) assertOwnership(principal, filters.customer_id);
    const position = decodeCursor(filters.cursor, ['id'] as const);
    const rows = await listWallets(
      this.#db,
      {
        customerId: principal.type === 'customer' ? principal.id : filters.customer_id,
        merchantId: filters.merchant_id,
        currency: filters.currency,
        status: filters.status,
        afterId: position?.id,
      },
      limit + 1,
    );
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    const accounts = new Map(
      (await this.ledger.accounts(page.items.map((row) => row.id))).map((a) => [a.id, a]),
    );
    const products = await this.products.codes();
    return {
      items: page.items.map((row) =>
        walletView(row, accounts.get(row.id)!, products.get(row.productId) ?? ''),
      ),
      next_cursor: page.next_cursor,
    };
  }

  /** Freeze, unfreeze or close (close needs a zero balance and no holds). */
  async setStatus(
    id: string,
    status: WalletRow['status'],
    reason: string,
    context: RequestContext,
  ): Promise<WalletView> {
    return inTransaction(this.#db, async (tx) => {
      const [row] = await lockWallets(tx, [id]);
      if (!row) throw walletErrors.notFound();
      if (row.status === 'closed') throw walletErrors.closed();
      if (status === 'closed') {
        const [account] = await this.ledger.accounts([id], tx);
        const balance = balanceOf(account!, account!.debitsPosted, account!.creditsPosted);
        if (balance.balance !== 0n || account!.debitsPending !== 0n || account!.creditsPending !== 0n)
          throw walletErrors.notEmpty(balance.balance);
      }
      const updated = await setWalletStatus(tx, id, status, reason);
      await writeAudit(tx, context, {
        action: `wallet.${status === 'active' ? 'unfreeze' : status === 'frozen' ? 'freeze' : 'close'}`,
        entityType: 'wallet',
        entityId: id,
        before: { status: row.status },
        after: { status, reason },
      });
      return this.view(updated!, tx);
    });
  }

  /** Locks the wallets (id order, so two opposite transfers never deadlock) and returns them by id. */
  async lock(tx: Executor, ids: string[]): Promise<Map<string, WalletRow>> {
    const rows = await lockWallets(tx, ids);
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** Adds what moved to the day and month counters of each wallet side, in one statement (see `addUsage`). */
  addUsage(tx: Executor, entries: UsageEntry[], at: Date): Promise<void> {
    return addUsage(tx, entries, at);
  }

  /** Takes back usage counted for a movement that did not happen (see `releaseUsage`). */
  releaseUsage(tx: Executor, entries: UsageEntry[], at: Date): Promise<void> {
    return releaseUsage(tx, entries, at);
  }

  /** What a payment checks of each wallet (see `readFacts`); `known` states read with the wallets are used as they are. */
  facts(
    executor: Executor,
    rows: Iterable<WalletRow>,
    at: Date,
    known?: ReadonlyMap<string, WalletState>,
  ): Promise<Map<string, WalletFacts>> {
    return readFacts(executor, this.products, rows, at, known);
  }

  /** A P2P transfer's wallets and their payment state in one statement (see `readTransferParties`). */
  transferParties(customerId: string, currency: string, walletNumber: string): Promise<PartiesRead> {
    return readTransferParties(this.#db, { customerId, currency, walletNumber }, new Date());
  }

  /**
   * Journal lines of a wallet with running balances, oldest first, between two instants. Each line says what it
   * was: a fee line "Fee", a duty line "Excise duty", the payment itself what the transactions module describes
   * (the biller and account number, the merchant, the other person); times also in the customer's time zone.
   */
  async statement(
    id: string,
    query: { from?: string; to?: string; limit?: number; cursor?: string },
    principal: Principal,
  ) {
    const row = await this.row(id);
    if (!(await this.visibleTo(row, principal))) throw walletErrors.notFound();
    const limit = query.limit ?? 100;
    const position = decodeCursor(query.cursor, ['entry'] as const);
    const rows = await journalLines(
      this.#db,
      id,
      {
        ...(query.from ? { from: new Date(query.from) } : {}),
        ...(query.to ? { to: new Date(query.to) } : {}),
        ...(position ? { afterEntry: BigInt(position.entry) } : {}),
      },
      limit + 1,
    );
    const opening = await balanceBefore(
      this.#db,
      id,
      position
        ? { throughEntry: BigInt(position.entry) }
        : query.from
          ? { before: new Date(query.from) }
          : {},
    );
    const page = paginate(rows, limit, (item) => ({ entry: item.entry.id.toString() }));
    const openingBalance = opening ?? 0n;
    const transactionOf = (metadata: Record<string, unknown> | null) =>
      typeof metadata?.transaction_id === 'string' ? metadata.transaction_id : null;
    const [timeZone, descriptions] = await Promise.all([
      this.documents.timeZoneFor(principal.type === 'customer' ? principal.id : row.customerId),
      this.documents.describe(
        [...new Set(page.items.map((item) => transactionOf(item.metadata)).filter((id) => id !== null))],
        id,
      ),
    ]);
    const items = page.items.map(({ entry, reference, code, metadata, leg }) => {
      const signed = entry.direction === 'credit' ? entry.amount : -entry.amount;
      const transactionId = transactionOf(metadata);
      const narration = typeof metadata?.narration === 'string' ? metadata.narration : null;
      return {
        entry_id: entry.id.toString(),
        posted_at: entry.createdAt.toISOString(),
        posted_at_local: localIsoTime(entry.createdAt, timeZone),
        reference,
        type: code,
        leg,
        description:
          LEG_LABELS[leg] ?? (transactionId && descriptions.get(transactionId)) ?? narration ?? code,
        narration,
        transaction_id: transactionId,
        direction: entry.direction,
        amount: signed,
        amount_display: formatMoney(signed, row.currency),
        balance_after: entry.balanceAfter ?? 0n,
      };
    });
    const closing = items.length > 0 ? items[items.length - 1]!.balance_after : openingBalance;
    return {
      wallet_id: id,
      wallet_number: row.walletNumber,
      currency: row.currency,
      time_zone: timeZone,
      opening_balance: openingBalance,
      closing_balance: closing,
      items,
      next_cursor: page.next_cursor,
    };
  }

  /** Product codes by id, for lists. */
}
