/**
 * Bill payment: a registry of billers (each with a ledger account the platform owes it, and an adapter that checks
 * customer references), reference validation, and payment through the payment engine (PIN, limits, fee, one
 * posting wallet → biller settlement account with the transaction record and the stored idempotent response).
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, formatMoney, positiveAmount } from '../../platform/money.ts';
import type { LedgerService } from '../ledger/index.ts';
import type { SettingsService } from '../settings/index.ts';
import { type Authorization, type TransactionsService, transactionErrors } from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { adapterFor, type BillValidation, normaliseReference } from './bills.adapters.ts';
import { billErrors } from './bills.errors.ts';
import {
  type BillerRow,
  billerByCode,
  billerById,
  billerNames,
  insertBiller,
  listBillers,
  lockBiller,
  updateBiller,
} from './bills.repository.ts';
import { createSettlementAccount } from './bills.seed.ts';

export type { BillerRow } from './bills.repository.ts';

export function billerView(row: BillerRow, principal: Pick<Principal, 'type'>) {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    category: row.category,
    currency: row.currency,
    adapter: row.adapter,
    reference_pattern: row.referencePattern,
    min_amount: row.minAmount,
    // Absent rather than null: a nullable bigint does not serialise (the schema union is checked as JSON types).
    ...(row.maxAmount === null ? {} : { max_amount: row.maxAmount }),
    min_amount_display: formatMoney(row.minAmount, row.currency),
    max_amount_display: row.maxAmount === null ? null : formatMoney(row.maxAmount, row.currency),
    active: row.active,
    ...(principal.type === 'customer' ? {} : { settlement_account_id: row.settlementAccountId }),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export interface BillerInput {
  code: string;
  name: string;
  category: string;
  currency: string;
  adapter: string;
  reference_pattern: string;
  min_amount?: number;
  max_amount?: number | null;
  active?: boolean;
}

export type BillerPatch = Partial<Omit<BillerInput, 'code' | 'currency'>>;

export interface BillPaymentInput extends Authorization {
  biller_code: string;
  reference: string;
  amount: number;
  currency?: string;
  source_wallet_id?: string;
  narration?: string;
}

export class BillsService {
  readonly #db: Executor;
  readonly #ledger: LedgerService;
  readonly #wallets: WalletsService;
  readonly #settings: SettingsService;
  readonly #transactions: TransactionsService;

  constructor(options: {
    db: Executor;
    ledger: LedgerService;
    wallets: WalletsService;
    settings: SettingsService;
    transactions: TransactionsService;
  }) {
    this.#db = options.db;
    this.#ledger = options.ledger;
    this.#wallets = options.wallets;
    this.#settings = options.settings;
    this.#transactions = options.transactions;
    // Receipts and statement lines name the biller a bill payment went to (the engine does not read billers).
    options.transactions.counterparties.register('bill', async (records) => {
      const names = await billerNames(
        this.#db,
        records.flatMap((record) => (record.billerId ? [record.billerId] : [])),
      );
      return new Map(
        records.flatMap((record) => {
          const biller = record.billerId ? names.get(record.billerId) : undefined;
          return biller ? [[record.id, biller] as const] : [];
        }),
      );
    });
  }

  async list(
    query: { category?: string; currency?: string; active?: boolean; limit?: number; cursor?: string },
    principal: Principal,
  ) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['code'] as const);
    const rows = await listBillers(
      this.#db,
      {
        // Customers pay only billers accepting payments; staff see the whole registry.
        active: principal.type === 'customer' ? true : query.active,
        category: query.category,
        currency: query.currency,
        afterCode: position?.code,
      },
      limit + 1,
    );
    const page = paginate(rows, limit, (row) => ({ code: row.code }));
    return { items: page.items.map((row) => billerView(row, principal)), next_cursor: page.next_cursor };
  }

  async get(id: string, principal: Principal) {
    const row = await billerById(this.#db, id);
    if (!row || (principal.type === 'customer' && !row.active)) throw billErrors.notFound();
    return billerView(row, principal);
  }

  async byCode(code: string, executor: Executor = this.#db): Promise<BillerRow> {
    const row = await billerByCode(executor, code);
    if (!row) throw billErrors.notFound();
    return row;
  }

  async create(input: BillerInput, principal: Principal, context: RequestContext) {
    currencyInfo(input.currency);
    adapterFor({ code: input.code, adapter: input.adapter, referencePattern: input.reference_pattern });
    const minAmount = BigInt(input.min_amount ?? 1);
    const maxAmount =
      input.max_amount === undefined || input.max_amount === null ? null : BigInt(input.max_amount);
    if (maxAmount !== null && maxAmount < minAmount) throw billErrors.amountBounds();
    try {
      return await inTransaction(this.#db, async (tx) => {
        const settlementAccountId = await createSettlementAccount(tx, this.#ledger, input);
        const row = await insertBiller(tx, {
          id: uuidv7(),
          code: input.code,
          name: input.name,
          category: input.category,
          currency: input.currency,
          adapter: input.adapter,
          referencePattern: input.reference_pattern,
          minAmount,
          maxAmount,
          settlementAccountId,
          active: input.active ?? true,
        });
        const view = billerView(row, principal);
        await writeAudit(tx, context, {
          action: 'biller.create',
          entityType: 'biller',
          entityId: row.id,
          after: view,
        });
        return view;
      });
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'billers_code_key' || constraint === 'ledger_accounts_code_key')
        throw billErrors.exists(input.code);
      throw error;
    }
  }

  async update(id: string, patch: BillerPatch, principal: Principal, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const before = await lockBiller(tx, id);
      if (!before) throw billErrors.notFound();
      const adapter = patch.adapter ?? before.adapter;
      const referencePattern = patch.reference_pattern ?? before.referencePattern;
      adapterFor({ code: before.code, adapter, referencePattern });
      const minAmount = patch.min_amount !== undefined ? BigInt(patch.min_amount) : before.minAmount;
      const maxAmount =
        patch.max_amount === undefined
          ? before.maxAmount
          : patch.max_amount === null
            ? null
            : BigInt(patch.max_amount);
      if (maxAmount !== null && maxAmount < minAmount) throw billErrors.amountBounds();
      const row = await updateBiller(tx, id, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.category !== undefined ? { category: patch.category } : {}),
        ...(patch.active !== undefined ? { active: patch.active } : {}),
        adapter,
        referencePattern,
        minAmount,
        maxAmount,
      });
      const view = billerView(row, principal);
      await writeAudit(tx, context, {
        action: 'biller.update',
        entityType: 'biller',
        entityId: id,
        before: billerView(before, principal),
        after: view,
      });
      return view;
    });
  }

  async #check(biller: BillerRow, reference: string): Promise<BillValidation> {
    try {
      return await adapterFor(biller).validate(reference);
    } catch (error) {
      // A biller stored with an adapter this build no longer has cannot take payments.
      if (error instanceof AppError && error.errorCode === 'UNKNOWN_BILLER_ADAPTER')
        throw billErrors.unavailable(biller.code);
      throw error;
    }
  }

  /** Whether a reference is a valid account with the biller (before the customer confirms a payment). */
  async validate(input: { biller_code: string; reference: string }, principal: Principal) {
    const biller = await this.byCode(input.biller_code);
    if (!biller.active) {
      if (principal.type === 'customer') throw billErrors.notFound();
      throw billErrors.unavailable(biller.code);
    }
    const reference = normaliseReference(input.reference);
    const result = await this.#check(biller, reference);
    return {
      biller_code: biller.code,
      reference,
      valid: result.valid,
      ...(result.account_name !== undefined ? { account_name: result.account_name } : {}),
      ...(result.reason !== undefined ? { reason: result.reason } : {}),
    };
  }

  /**
   * Checks the biller (switched on, active, amount within its range, reference valid), then runs the payment:
   * PIN (and a bound one-time code above the threshold), limits and the `bill` fee of the wallet's product.
   */
  async pay(
    principal: Principal,
    input: BillPaymentInput,
    channel: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const amount = positiveAmount(input.amount);
    if (!(await this.#settings.get('features.bill_payments')))
      throw transactionErrors.disabled('bill_payments');
    const biller = await this.byCode(input.biller_code);
    if (!biller.active) throw billErrors.unavailable(biller.code);
    if (input.currency !== undefined && input.currency !== biller.currency)
      throw billErrors.currencyMismatch(biller.code, biller.currency, input.currency);
    if (amount < biller.minAmount || (biller.maxAmount !== null && amount > biller.maxAmount))
      throw billErrors.amountOutOfRange(amount, biller.minAmount, biller.maxAmount);
    const reference = normaliseReference(input.reference);
    const validation = await this.#check(biller, reference);
    if (!validation.valid) throw billErrors.invalidReference(biller.code, validation.reason ?? 'invalid');
    const source = await this.#wallets.payingWallet(principal, input.source_wallet_id, biller.currency);
    return this.#transactions.run(
      {
        type: 'bill',
        channel,
        initiator: { type: principal.type, id: principal.id },
        source: { kind: 'wallet', walletId: source.id },
        destination: { kind: 'account', accountId: biller.settlementAccountId },
        amount,
        currency: biller.currency,
        feature: 'bill_payment',
        billerId: biller.id,
        narration: input.narration ?? `${biller.name} ${reference}`.slice(0, 140),
        metadata: {
          bill_reference: reference,
          biller_code: biller.code,
          ...(validation.account_name !== undefined ? { bill_account_name: validation.account_name } : {}),
        },
        claim,
      },
      principal,
      input,
      context,
    );
  }
}
