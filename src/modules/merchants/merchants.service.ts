/**
 * Merchants: registration under maker-checker (the merchant and its wallet open together when a second staff member
 * approves), suspension, EMVCo merchant-presented QR codes (static: reusable, no amount; dynamic: amount and
 * reference, expiring, single-use), and payment by merchant id or scanned QR through the payment engine with the
 * merchant discount rate (MDR) taken from the merchant's wallet to fee income in the same posting.
 */
import { and, desc, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, formatMoney, mulDivRound, positiveAmount } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { customerStanding } from '../customers/index.ts';
import type { LedgerService } from '../ledger/index.ts';
import type { SettingsService } from '../settings/index.ts';
import {
  type Authorization,
  type MovementPlan,
  type PaymentModuleOptions,
  type TransactionsService,
  transactionErrors,
} from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import {
  currencyAlphaOf,
  currencyNumericOf,
  encodeMerchantQr,
  formatQrAmount,
  type MerchantQrInput,
  merchantQrPng,
  type ParsedMerchantQr,
  parseMerchantQr,
  parseQrAmount,
} from './emvco.ts';
import { asQrError, merchantErrors } from './merchants.errors.ts';
import { merchantActivated, merchantRegistered, merchantSuspended } from './merchants.events.ts';
import { merchantQrCodes, merchants } from './merchants.tables.ts';

/** Globally unique id of this platform's merchant account template (EMVCo tag 26, sub-tag 00). */
export const MERCHANT_QR_GUID = 'ke.co.codeforge';
/** Merchant number: "M", seven random digits and a Luhn check digit; carried in template 26, sub-tag 01. */
const MERCHANT_NUMBER_DIGITS = 8;
const NUMBER_ATTEMPTS = 4;

type MerchantRow = typeof merchants.$inferSelect;
type QrRow = typeof merchantQrCodes.$inferSelect;
type MerchantStatus = MerchantRow['status'];

export interface RegistrationInput {
  name: string;
  mcc: string;
  city: string;
  country: string;
  currency: string;
  fee_bps: number;
  owner_customer_id?: string;
}

/** What the approval request carries: the maker's input and who made it. */
export type RegistrationPayload = RegistrationInput & { requested_by: string | null };

export interface MerchantPaymentInput extends Authorization {
  merchant_id?: string;
  qr_payload?: string;
  source_wallet_id?: string;
  amount?: number;
  currency?: string;
  narration?: string;
}

export function merchantView(row: MerchantRow) {
  return {
    id: row.id,
    merchant_number: row.merchantNumber,
    name: row.name,
    mcc: row.mcc,
    city: row.city,
    country: row.country,
    currency: row.currency,
    owner_customer_id: row.ownerCustomerId,
    status: row.status,
    fee_bps: row.feeBps,
    wallet_id: row.walletId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export type MerchantView = ReturnType<typeof merchantView>;

export function qrView(row: QrRow) {
  return {
    id: row.id,
    merchant_id: row.merchantId,
    mode: row.mode,
    payload: row.payload,
    currency: row.currency,
    ...(row.amount === null
      ? {}
      : { amount: row.amount, amount_display: formatMoney(row.amount, row.currency) }),
    reference: row.reference,
    expires_at: row.expiresAt?.toISOString() ?? null,
    used_at: row.usedAt?.toISOString() ?? null,
    transaction_id: row.transactionId,
    created_at: row.createdAt.toISOString(),
  };
}

/** ISO 4217 numeric code for tag 53; an unknown currency is refused as unsupported (422). */
function currencyNumeric(currency: string): string {
  currencyInfo(currency);
  return currencyNumericOf(currency);
}

/** What a payment resolves to before the engine runs: whom, how much, and the dynamic code it consumes. */
interface PaymentTarget {
  merchant: MerchantRow;
  amount: bigint;
  qr: QrRow | null;
  mode: 'static' | 'dynamic' | null;
}

export class MerchantsService {
  readonly #db: Executor;
  readonly #wallets: WalletsService;
  readonly #ledger: LedgerService;
  readonly #settings: SettingsService;
  readonly #approvals: ApprovalService;
  readonly #transactions: TransactionsService;

  constructor(options: PaymentModuleOptions) {
    this.#db = options.deps.database.db;
    this.#wallets = options.wallets;
    this.#ledger = options.ledger;
    this.#settings = options.settings;
    this.#approvals = options.approvals;
    this.#transactions = options.transactions;
  }

  // -------------------------------------------------------------------------------------------------------
  // Registration (maker-checker)

  /** Files the registration for a second staff member; nothing exists until it is approved. */
  async requestRegistration(
    input: RegistrationInput,
    context: RequestContext,
    claim: IdempotencyClaim | null,
  ) {
    await this.#checkRegistration(input);
    const payload: RegistrationPayload = { ...input, requested_by: context.actor.id };
    const outcome = await this.#approvals.run<RegistrationPayload, MerchantView>(
      'merchant.register',
      payload,
      {
        summary: `Register merchant ${input.name} (MCC ${input.mcc}, ${input.currency}, MDR ${input.fee_bps} bps)`,
        entityType: 'merchant',
      },
      context,
      { always: true, claim },
    );
    if (outcome.kind === 'done') return { status: 201 as const, body: outcome.result };
    return { status: 202 as const, body: outcome.request };
  }

  /** Refusals that can be known at filing time (and again at approval: the owner may have closed since). */
  async #checkRegistration(input: RegistrationInput): Promise<void> {
    currencyNumeric(input.currency);
    await this.#wallets.products.defaultFor(input.currency);
    if (!input.owner_customer_id) return;
    const owner = await customerStanding(this.#db, input.owner_customer_id);
    if (!owner) throw commonErrors.notFound('Customer');
    if (owner.erasedAt || owner.status === 'closed')
      throw merchantErrors.ownerInactive(owner.erasedAt ? 'erased' : owner.status);
  }

  /** The approved registration: the merchant and its wallet in one transaction, audited, with an event. */
  async executeRegistration(payload: RegistrationPayload, context: RequestContext): Promise<MerchantView> {
    await this.#checkRegistration(payload);
    // House accounts resolved outside the transaction: the wallet opener must find them cached.
    await this.#ledger.ensureHouseAccounts(payload.currency);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await inTransaction(this.#db, async (tx) => {
          const id = uuidv7();
          await tx.insert(merchants).values({
            id,
            merchantNumber: humanNumber('M', MERCHANT_NUMBER_DIGITS),
            name: payload.name,
            mcc: payload.mcc,
            city: payload.city,
            country: payload.country,
            currency: payload.currency,
            ownerCustomerId: payload.owner_customer_id ?? null,
            status: 'active',
            feeBps: payload.fee_bps,
          });
          const wallet = await this.#wallets.openMerchantWallet(tx, id, payload.currency);
          const [row] = await tx
            .update(merchants)
            .set({ walletId: wallet.id, updatedAt: new Date() })
            .where(eq(merchants.id, id))
            .returning();
          const view = merchantView(row!);
          await emitEvent(
            tx,
            merchantRegistered,
            { type: 'merchant', id },
            {
              merchant_id: id,
              merchant_number: view.merchant_number,
              name: view.name,
              mcc: view.mcc,
              currency: view.currency,
              wallet_id: wallet.id,
              owner_customer_id: view.owner_customer_id,
            },
          );
          await writeAudit(tx, context, {
            action: 'merchant.register',
            entityType: 'merchant',
            entityId: id,
            after: { ...view, wallet_number: wallet.wallet_number, requested_by: payload.requested_by },
          });
          return view;
        });
      } catch (error) {
        // A merchant or wallet number collision just draws another number.
        const constraint = violatedConstraint(error);
        if (
          (constraint === 'merchants_number_key' || constraint === 'wallets_number_key') &&
          attempt < NUMBER_ATTEMPTS
        )
          continue;
        throw error;
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Reading and status

  async #row(id: string, executor: Executor = this.#db): Promise<MerchantRow> {
    const [row] = await executor.select().from(merchants).where(eq(merchants.id, id)).limit(1);
    if (!row) throw merchantErrors.notFound();
    return row;
  }

  /** A merchant the principal may act for: customers only the ones they own (others answer 404). */
  async #owned(id: string, principal: Principal): Promise<MerchantRow> {
    const row = await this.#row(id);
    if (principal.type === 'customer' && row.ownerCustomerId !== principal.id)
      throw merchantErrors.notFound();
    return row;
  }

  async list(
    filters: {
      status?: MerchantStatus;
      owner_customer_id?: string;
      merchant_number?: string;
      mcc?: string;
      currency?: string;
      limit?: number;
      cursor?: string;
    },
    principal: Principal,
  ) {
    const limit = filters.limit ?? 20;
    const conditions: SQL[] = [];
    if (filters.owner_customer_id) assertOwnership(principal, filters.owner_customer_id);
    const owner = principal.type === 'customer' ? principal.id : filters.owner_customer_id;
    if (owner) conditions.push(eq(merchants.ownerCustomerId, owner));
    if (filters.status) conditions.push(eq(merchants.status, filters.status));
    if (filters.merchant_number) conditions.push(eq(merchants.merchantNumber, filters.merchant_number));
    if (filters.mcc) conditions.push(eq(merchants.mcc, filters.mcc));
    if (filters.currency) conditions.push(eq(merchants.currency, filters.currency));
    const position = decodeCursor(filters.cursor, ['id'] as const);
    if (position) conditions.push(sql`${merchants.id} < ${position.id}`);
    const rows = await this.#db
      .select()
      .from(merchants)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(desc(merchants.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(merchantView), next_cursor: page.next_cursor };
  }

  /** One merchant with its wallet and balance (statements: the wallet routes with `wallet_id`). */
  async get(id: string, principal: Principal) {
    const row = await this.#owned(id, principal);
    const view = merchantView(row);
    if (!row.walletId)
      return { ...view, wallet_number: null, balance: 0n, available_balance: 0n, balance_display: '' };
    const [wallet, balance] = await Promise.all([
      this.#wallets.row(row.walletId),
      this.#ledger.balance(row.walletId),
    ]);
    return {
      ...view,
      wallet_number: wallet.walletNumber,
      balance: balance.balance,
      available_balance: balance.available,
      balance_display: formatMoney(balance.balance, row.currency),
    };
  }

  /** Suspend or reactivate; a suspended merchant cannot be paid (its wallet and balance are untouched). */
  async setStatus(
    id: string,
    status: 'suspended' | 'active',
    reason: string | null,
    context: RequestContext,
  ): Promise<MerchantView> {
    return inTransaction(this.#db, async (tx) => {
      const [current] = await tx.select().from(merchants).where(eq(merchants.id, id)).for('update').limit(1);
      if (!current) throw merchantErrors.notFound();
      if (current.status === 'closed') throw merchantErrors.closed();
      if (current.status === status) throw merchantErrors.statusUnchanged(status);
      const [row] = await tx
        .update(merchants)
        .set({ status, updatedAt: new Date() })
        .where(eq(merchants.id, id))
        .returning();
      await emitEvent(
        tx,
        status === 'suspended' ? merchantSuspended : merchantActivated,
        { type: 'merchant', id },
        { merchant_id: id, status, reason },
      );
      await writeAudit(tx, context, {
        action: status === 'suspended' ? 'merchant.suspend' : 'merchant.activate',
        entityType: 'merchant',
        entityId: id,
        before: { status: current.status },
        after: { status, reason },
      });
      return merchantView(row!);
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // QR codes

  #encode(merchant: MerchantRow, extra: Pick<MerchantQrInput, 'mode' | 'amount' | 'additional'>): string {
    try {
      return encodeMerchantQr({
        ...extra,
        merchantAccount: { globallyUniqueId: MERCHANT_QR_GUID, merchantId: merchant.merchantNumber },
        mcc: merchant.mcc,
        currencyNumeric: currencyNumeric(merchant.currency),
        countryCode: merchant.country,
        merchantName: merchant.name,
        merchantCity: merchant.city,
      });
    } catch (error) {
      throw asQrError(error);
    }
  }

  async #issue(
    merchant: MerchantRow,
    values: Omit<typeof merchantQrCodes.$inferInsert, 'id' | 'merchantId' | 'currency'>,
    context: RequestContext,
    claim: IdempotencyClaim | null,
  ) {
    // Rendered before the transaction: the PNG is the slow part and needs no lock. A data URI, like every image in
    // the API's JSON (the MFA enrolment QR too): a client can show it as it is.
    const png = `data:image/png;base64,${(await merchantQrPng(values.payload)).toString('base64')}`;
    try {
      return await inTransaction(this.#db, async (tx) => {
        const [row] = await tx
          .insert(merchantQrCodes)
          .values({ id: uuidv7(), merchantId: merchant.id, currency: merchant.currency, ...values })
          .returning();
        const view = { ...qrView(row!), qr_png: png };
        await writeAudit(tx, context, {
          action: 'merchant_qr.create',
          entityType: 'merchant_qr',
          entityId: row!.id,
          after: {
            merchant_id: merchant.id,
            mode: row!.mode,
            amount: row!.amount,
            reference: row!.reference,
            expires_at: view.expires_at,
          },
        });
        await claim?.commit(tx, 201, view);
        return view;
      });
    } catch (error) {
      if (violatedConstraint(error) === 'merchant_qr_codes_reference_key')
        throw merchantErrors.referenceExists(values.reference ?? '');
      throw error;
    }
  }

  /** A reusable code without an amount: the payer types the amount. */
  async createStaticQr(
    input: { merchant_id: string },
    principal: Principal,
    context: RequestContext,
    claim: IdempotencyClaim | null,
  ) {
    const merchant = await this.#owned(input.merchant_id, principal);
    if (merchant.status !== 'active') throw merchantErrors.unavailable(merchant.status);
    const payload = this.#encode(merchant, { mode: 'static' });
    return this.#issue(merchant, { mode: 'static', payload }, context, claim);
  }

  /** A single-use code carrying the amount and the merchant's reference, valid for `ttl_seconds`. */
  async createDynamicQr(
    input: { merchant_id: string; amount: number; reference: string; ttl_seconds?: number },
    principal: Principal,
    context: RequestContext,
    claim: IdempotencyClaim | null,
  ) {
    const merchant = await this.#owned(input.merchant_id, principal);
    if (merchant.status !== 'active') throw merchantErrors.unavailable(merchant.status);
    const amount = positiveAmount(input.amount);
    const ttlSeconds = input.ttl_seconds ?? (await this.#settings.get('payments.dynamic_qr_ttl_seconds'));
    let amountText: string;
    try {
      amountText = formatQrAmount(amount, currencyInfo(merchant.currency).exponent);
    } catch (error) {
      throw asQrError(error);
    }
    const payload = this.#encode(merchant, {
      mode: 'dynamic',
      amount: amountText,
      additional: { referenceLabel: input.reference },
    });
    return this.#issue(
      merchant,
      {
        mode: 'dynamic',
        payload,
        amount,
        reference: input.reference,
        expiresAt: new Date(Date.now() + ttlSeconds * 1000),
      },
      context,
      claim,
    );
  }

  async #ownedQr(id: string, principal: Principal): Promise<QrRow> {
    const [row] = await this.#db.select().from(merchantQrCodes).where(eq(merchantQrCodes.id, id)).limit(1);
    if (!row) throw merchantErrors.qrNotFound();
    if (principal.type === 'customer') {
      const merchant = await this.#row(row.merchantId);
      if (merchant.ownerCustomerId !== principal.id) throw merchantErrors.qrNotFound();
    }
    return row;
  }

  async getQr(id: string, principal: Principal) {
    return qrView(await this.#ownedQr(id, principal));
  }

  async qrPng(id: string, principal: Principal): Promise<Buffer> {
    const row = await this.#ownedQr(id, principal);
    return merchantQrPng(row.payload);
  }

  // -------------------------------------------------------------------------------------------------------
  // Payment

  /**
   * Pay a merchant by id or scanned QR. Refusals that need no PIN (bad or foreign QR, expired or used code, suspended
   * merchant) come first; the engine then validates, asks for the PIN (and a bound one-time code above the
   * threshold) and posts principal + customer fee + MDR together. A dynamic code is marked used inside the posting
   * transaction by a guarded update, so of parallel payments of one code exactly one commits.
   */
  async pay(
    principal: Principal,
    input: MerchantPaymentInput,
    channel: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    if (Boolean(input.merchant_id) === Boolean(input.qr_payload))
      throw merchantErrors.validation('merchant_id', 'give exactly one of merchant_id and qr_payload');
    if (!(await this.#settings.get('features.qr_payments'))) throw transactionErrors.disabled('qr_payments');
    const target = input.qr_payload
      ? await this.#targetOfQr(input.qr_payload, input.amount)
      : await this.#targetOfId(input.merchant_id!, input.amount);
    const { merchant, amount, qr } = target;
    if (merchant.status !== 'active' || !merchant.walletId) throw merchantErrors.unavailable(merchant.status);
    if (input.currency && input.currency !== merchant.currency)
      throw transactionErrors.currencyMismatch(merchant.currency, input.currency);
    const source = await this.#wallets.payingWallet(principal, input.source_wallet_id, merchant.currency);
    const merchantFee = mulDivRound(amount, BigInt(merchant.feeBps), 10_000n);
    // Resolved before the posting transaction so the legs need no query of their own.
    const feeIncome = await this.#ledger.houseAccount(`fee_income:${merchant.currency}`);
    const plan: MovementPlan = {
      type: 'merchant',
      channel,
      initiator: { type: principal.type, id: principal.id },
      source: { kind: 'wallet', walletId: source.id },
      destination: { kind: 'wallet', walletId: merchant.walletId },
      amount,
      currency: merchant.currency,
      feeRule: 'merchant',
      feature: 'qr_payment',
      narration: input.narration ?? null,
      merchantId: merchant.id,
      metadata: {
        merchant_number: merchant.merchantNumber,
        merchant_fee: Number(merchantFee),
        merchant_fee_bps: merchant.feeBps,
        via: input.qr_payload ? 'qr' : 'merchant_id',
        qr_mode: target.mode,
        qr_id: qr?.id ?? null,
        qr_reference: qr?.reference ?? null,
      },
      extraLegs: ({ destinationAccount }) =>
        merchantFee > 0n
          ? [{ debit: destinationAccount, credit: feeIncome, amount: merchantFee, code: 'fee' }]
          : [],
      beforeCommit: async (tx, record) => {
        await this.#confirmPayable(tx, merchant.id);
        if (qr) await this.#consume(tx, qr.id, record.id);
      },
      claim,
    };
    return this.#transactions.run(plan, principal, { pin: input.pin, otp: input.otp }, context);
  }

  async #targetOfId(merchantId: string, amount: number | undefined): Promise<PaymentTarget> {
    const merchant = await this.#row(merchantId);
    if (amount === undefined) throw merchantErrors.validation('amount', 'is required');
    return { merchant, amount: positiveAmount(amount), qr: null, mode: null };
  }

  async #targetOfQr(payload: string, bodyAmount: number | undefined): Promise<PaymentTarget> {
    let parsed: ParsedMerchantQr;
    try {
      parsed = parseMerchantQr(payload);
    } catch (error) {
      throw asQrError(error);
    }
    const account = Object.values(parsed.merchantAccounts).find(
      (template) => template['00']?.toLowerCase() === MERCHANT_QR_GUID,
    );
    if (!account) throw merchantErrors.unknownScheme();
    const merchantNumber = account['01'];
    if (!merchantNumber)
      throw merchantErrors.invalidQr(
        'merchantAccount',
        'the merchant account has no merchant id (sub-tag 01)',
      );
    const [merchant] = await this.#db
      .select()
      .from(merchants)
      .where(eq(merchants.merchantNumber, merchantNumber))
      .limit(1);
    if (!merchant) throw merchantErrors.notFound();
    if (parsed.currencyNumeric !== currencyNumeric(merchant.currency))
      throw transactionErrors.currencyMismatch(
        merchant.currency,
        currencyAlphaOf(parsed.currencyNumeric) ?? parsed.currencyNumeric,
      );
    const given = bodyAmount === undefined ? undefined : positiveAmount(bodyAmount);
    if (parsed.mode === 'dynamic') return this.#dynamicTarget(merchant, parsed, payload, given);
    let amount = given;
    if (parsed.amount !== undefined) {
      let fixed: bigint;
      try {
        fixed = parseQrAmount(parsed.amount, currencyInfo(merchant.currency).exponent);
      } catch (error) {
        throw asQrError(error);
      }
      if (given !== undefined && given !== fixed) throw merchantErrors.amountMismatch(fixed, given);
      amount = positiveAmount(fixed);
    }
    if (amount === undefined) throw merchantErrors.validation('amount', 'is required for a static QR code');
    return { merchant, amount, qr: null, mode: 'static' };
  }

  /** A dynamic code must be one this platform issued, byte for byte, unused and unexpired. */
  async #dynamicTarget(
    merchant: MerchantRow,
    parsed: ParsedMerchantQr,
    payload: string,
    given: bigint | undefined,
  ): Promise<PaymentTarget> {
    const reference = parsed.additional.referenceLabel;
    if (!reference)
      throw merchantErrors.invalidQr(
        'additional.referenceLabel',
        'a dynamic code must carry a reference (62-05)',
      );
    const [qr] = await this.#db
      .select()
      .from(merchantQrCodes)
      .where(and(eq(merchantQrCodes.reference, reference), eq(merchantQrCodes.merchantId, merchant.id)))
      .limit(1);
    if (qr?.mode !== 'dynamic' || qr.amount === null) throw merchantErrors.qrNotFound();
    // The CRC only catches scanning errors; anyone can recompute it. The issued payload is the authority.
    if (qr.payload.slice(0, -4) !== payload.slice(0, -4))
      throw merchantErrors.invalidQr('payload', 'it does not match the code issued with this reference');
    if (qr.usedAt) throw merchantErrors.used();
    if (qr.expiresAt && qr.expiresAt.getTime() <= Date.now()) throw merchantErrors.expired(qr.expiresAt);
    if (given !== undefined && given !== qr.amount) throw merchantErrors.amountMismatch(qr.amount, given);
    return { merchant, amount: qr.amount, qr, mode: 'dynamic' };
  }

  /** Re-checked under a share lock inside the posting: a suspension that committed first wins. */
  async #confirmPayable(tx: Executor, merchantId: string): Promise<void> {
    const [row] = await tx
      .select({ status: merchants.status })
      .from(merchants)
      .where(eq(merchants.id, merchantId))
      .for('share')
      .limit(1);
    if (!row) throw merchantErrors.notFound();
    if (row.status !== 'active') throw merchantErrors.unavailable(row.status);
  }

  /** Marks a dynamic code used by this transaction; 0 rows means another payment (or the clock) got there first. */
  async #consume(tx: Executor, qrId: string, transactionId: string): Promise<void> {
    const now = new Date();
    const updated = await tx
      .update(merchantQrCodes)
      .set({ usedAt: now, transactionId, updatedAt: now })
      .where(
        and(
          eq(merchantQrCodes.id, qrId),
          isNull(merchantQrCodes.usedAt),
          gt(merchantQrCodes.expiresAt, sql`now()`),
        ),
      )
      .returning({ id: merchantQrCodes.id });
    if (updated.length > 0) return;
    const [row] = await tx.select().from(merchantQrCodes).where(eq(merchantQrCodes.id, qrId)).limit(1);
    if (row?.expiresAt && !row.usedAt) throw merchantErrors.expired(row.expiresAt);
    throw merchantErrors.used();
  }
}
