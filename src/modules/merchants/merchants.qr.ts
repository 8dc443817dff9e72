/**
 * EMVCo merchant-presented QR codes: static (reusable, no amount: the payer types it) and dynamic (amount and the
 * merchant's reference, expiring, single-use), issued with their PNG and read back by id.
 */
import { eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, positiveAmount } from '../../platform/money.ts';
import type { SettingsService } from '../settings/index.ts';
import type { PaymentModuleOptions } from '../transactions/index.ts';
import { encodeMerchantQr, formatQrAmount, type MerchantQrInput, merchantQrPng } from './emvco.ts';
import { asQrError, merchantErrors } from './merchants.errors.ts';
import {
  currencyNumeric,
  type MerchantRow,
  merchantRow,
  ownedMerchant,
  type QrRow,
  qrView,
} from './merchants.rows.ts';
import { merchantQrCodes } from './merchants.tables.ts';

/** Globally unique id of this platform's merchant account template (EMVCo tag 26, sub-tag 00). */
export const MERCHANT_QR_GUID = 'ke.co.codeforge';

export class MerchantQrCodes {
  readonly #db: Executor;
  readonly #settings: SettingsService;

  constructor(options: PaymentModuleOptions) {
    this.#db = options.deps.database.db;
    this.#settings = options.settings;
  }

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
    const merchant = await ownedMerchant(this.#db, input.merchant_id, principal);
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
    const merchant = await ownedMerchant(this.#db, input.merchant_id, principal);
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
      const merchant = await merchantRow(this.#db, row.merchantId);
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
}
