/**
 * The merchant and QR code rows as the module's parts share them: how a merchant is read (by id, or for a principal
 * who may act for it) and how both are shown.
 */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import { currencyInfo, formatMoney } from '../../platform/money.ts';
import { currencyNumericOf } from './emvco.ts';
import { merchantErrors } from './merchants.errors.ts';
import { type merchantQrCodes, merchants } from './merchants.tables.ts';

export type MerchantRow = typeof merchants.$inferSelect;
export type QrRow = typeof merchantQrCodes.$inferSelect;
export type MerchantStatus = MerchantRow['status'];

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
export function currencyNumeric(currency: string): string {
  currencyInfo(currency);
  return currencyNumericOf(currency);
}

/** The merchant, or 404. */
export async function merchantRow(executor: Executor, id: string): Promise<MerchantRow> {
  const [row] = await executor.select().from(merchants).where(eq(merchants.id, id)).limit(1);
  if (!row) throw merchantErrors.notFound();
  return row;
}

/** A merchant the principal may act for: customers only the ones they own (others answer 404). */
export async function ownedMerchant(
  executor: Executor,
  id: string,
  principal: Principal,
): Promise<MerchantRow> {
  const row = await merchantRow(executor, id);
  if (principal.type === 'customer' && row.ownerCustomerId !== principal.id) throw merchantErrors.notFound();
  return row;
}
