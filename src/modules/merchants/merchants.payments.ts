/**
 * Payment of a merchant by id or scanned QR code through the payment engine, with the merchant discount rate (MDR)
 * taken from what the merchant receives to fee income in the same posting. A dynamic code is consumed inside that
 * posting.
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { RequestContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { currencyInfo, minorToJson, mulDivRound, positiveAmount } from '../../platform/money.ts';
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
import { currencyAlphaOf, type ParsedMerchantQr, parseMerchantQr, parseQrAmount } from './emvco.ts';
import { asQrError, merchantErrors } from './merchants.errors.ts';
import { MERCHANT_QR_GUID } from './merchants.qr.ts';
import { currencyNumeric, type MerchantRow, merchantRow, type QrRow } from './merchants.rows.ts';
import { merchantQrCodes, merchants } from './merchants.tables.ts';

export interface MerchantPaymentInput extends Authorization {
  merchant_id?: string;
  qr_payload?: string;
  source_wallet_id?: string;
  amount?: number;
  currency?: string;
  narration?: string;
}

/** What a payment resolves to before the engine runs: whom, how much, and the dynamic code it consumes. */
interface PaymentTarget {
  merchant: MerchantRow;
  amount: bigint;
  qr: QrRow | null;
  mode: 'static' | 'dynamic' | null;
}

export class MerchantPayments {
  readonly #db: Executor;
  readonly #wallets: WalletsService;
  readonly #ledger: LedgerService;
  readonly #settings: SettingsService;
  readonly #transactions: TransactionsService;

  constructor(options: PaymentModuleOptions) {
    this.#db = options.deps.database.db;
    this.#wallets = options.wallets;
    this.#ledger = options.ledger;
    this.#settings = options.settings;
    this.#transactions = options.transactions;
  }

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
        merchant_fee_minor: minorToJson(merchantFee),
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
    const merchant = await merchantRow(this.#db, merchantId);
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
