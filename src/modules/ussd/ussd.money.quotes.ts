/**
 * The money port's reads and quotes: balances, the masked recipient, billers and merchants, and what a payment will
 * cost — each checked by the payment engine (balance, limits, channel and tier features) and against the one-time-code
 * threshold before the journey asks for the PIN.
 */
import { AppError, errorBody } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import { formatMoney } from '../../platform/money.ts';
import { customerNames } from '../customers/index.ts';
import { type MovementPlan, transactionErrors } from '../transactions/index.ts';
import { ussdPrincipal } from './ussd.claims.ts';
import { ussdErrors } from './ussd.errors.ts';
import type { MoneyApis } from './ussd.money.apis.ts';
import { maskName, type StatementLine, statementLines } from './ussd.money.read.ts';
import type { BillerChoice, MerchantChoice, Quote, Recipient, WalletBalance } from './ussd.money.ts';

/** Merchant numbers are M + 8 digits (the last a Luhn check digit); the M is optional on a keypad. */
export function tillNumber(input: string): string | null {
  const match = /^[Mm]?([0-9]{8})$/.exec(input.trim());
  return match ? `M${match[1]}` : null;
}

/**
 * Which airtime biller serves a network as the gateways report it: Africa's Talking sends the MCC-MNC, the Ghanaian
 * gateways a name. Several billers per key when a name is used in several countries (the currency picks one).
 */
const AIRTIME_NETWORKS: Record<string, string[]> = {
  '63902': ['AIRTIME_SAFARICOM'],
  safaricom: ['AIRTIME_SAFARICOM'],
  '63903': ['AIRTIME_AIRTEL_KE'],
  '63907': ['AIRTIME_TELKOM_KE'],
  telkom: ['AIRTIME_TELKOM_KE'],
  '64110': ['AIRTIME_MTN_UG'],
  '64101': ['AIRTIME_AIRTEL_UG'],
  mtn: ['AIRTIME_MTN_UG'],
  airtel: ['AIRTIME_AIRTEL_KE', 'AIRTIME_AIRTEL_UG'],
};

function billerChoice(view: {
  code: string;
  name: string;
  category: string;
  currency: string;
  min_amount: bigint;
  max_amount?: bigint;
}): BillerChoice {
  return {
    code: view.code,
    name: view.name,
    category: view.category,
    currency: view.currency,
    minAmount: BigInt(view.min_amount),
    maxAmount: view.max_amount === undefined ? null : BigInt(view.max_amount),
  };
}

export function refusalOf(error: unknown): {
  kind: 'refused';
  code: string;
  details: Record<string, unknown>;
} {
  if (!(error instanceof AppError)) throw error;
  const body = errorBody(error, '');
  return { kind: 'refused', code: body.error_code, details: (body.details ?? {}) as Record<string, unknown> };
}

/** The reads and quotes; `UssdMoney` (ussd.money.ts) adds the payments. */
export class UssdMoneyReads {
  protected readonly apis: MoneyApis;

  constructor(apis: MoneyApis) {
    this.apis = apis;
  }

  async mainCurrency(customerId: string): Promise<string | null> {
    return (await this.balance(customerId))[0]?.currency ?? null;
  }

  async balance(customerId: string): Promise<WalletBalance[]> {
    const page = await this.apis.wallets.list({ limit: 20 }, ussdPrincipal(customerId));
    // Oldest first (the list's order): the first wallet opened is the customer's main one; closed ones hold nothing.
    const open = page.items.filter((wallet) => wallet.status !== 'closed');
    const active = open.filter((wallet) => wallet.status === 'active');
    return [...active, ...open.filter((wallet) => wallet.status !== 'active')].map((wallet) => ({
      currency: wallet.currency,
      balance: wallet.balance,
      available: wallet.available_balance,
      status: wallet.status,
    }));
  }

  async recipient(_customerId: string, phone: string, currency: string): Promise<Recipient | null> {
    try {
      const wallet = await this.apis.transactions.recipient({ to_phone: phone }, currency);
      if (!wallet.customerId) return null;
      const names = (await customerNames(this.apis.deps.database.db, [wallet.customerId])).get(
        wallet.customerId,
      );
      if (!names) return null;
      const full =
        names.customerType !== 'individual' && names.businessName
          ? names.businessName
          : `${names.firstName} ${names.lastName}`;
      return { phone, maskedName: maskName(full) };
    } catch (error) {
      if (error instanceof AppError && ['RECIPIENT_NOT_FOUND', 'INVALID_PHONE'].includes(error.errorCode))
        return null;
      throw error;
    }
  }

  /** At or above the one-time-code threshold USSD refuses, before any PIN is asked (no code, no PIN try). */
  async assertBelowOtpThreshold(amount: bigint, currency: string): Promise<void> {
    const thresholds = await this.apis.settings.get('payments.otp_threshold_minor');
    const threshold = thresholds[currency];
    if (threshold !== undefined && amount >= BigInt(threshold))
      throw ussdErrors.USSD_AMOUNT_NEEDS_APP({
        params: { threshold: formatMoney(BigInt(threshold), currency) },
        details: { threshold: formatMoney(BigInt(threshold), currency), currency },
      });
  }

  async quoteTransfer(
    customerId: string,
    input: { phone: string; amount: bigint; currency: string },
  ): Promise<Quote> {
    try {
      await this.assertBelowOtpThreshold(input.amount, input.currency);
      const quote = await this.apis.transactions.quote(
        ussdPrincipal(customerId),
        { to_phone: input.phone, amount: Number(input.amount), currency: input.currency },
        'ussd',
      );
      await this.#assertCovered(customerId, quote.currency, quote.total);
      return this.#quoted(quote.amount, quote.currency, quote.total);
    } catch (error) {
      return refusalOf(error);
    }
  }

  async billCategories(customerId: string, currency: string): Promise<string[]> {
    const all = await this.#allBillers(customerId, { currency });
    return [...new Set(all.map((biller) => biller.category))].filter((category) => category !== 'airtime');
  }

  billers(customerId: string, input: { category: string; currency: string }): Promise<BillerChoice[]> {
    return this.#allBillers(customerId, input);
  }

  async biller(customerId: string, code: string): Promise<BillerChoice | null> {
    try {
      const row = await this.apis.bills.byCode(code);
      if (!row.active) return null;
      const view = await this.apis.bills.get(row.id, ussdPrincipal(customerId));
      return billerChoice(view);
    } catch (error) {
      if (error instanceof AppError && error.errorCode === 'BILLER_NOT_FOUND') return null;
      throw error;
    }
  }

  async checkBillAccount(
    customerId: string,
    input: { billerCode: string; account: string },
  ): Promise<{ account: string } | { refused: string }> {
    try {
      const result = await this.apis.bills.validate(
        { biller_code: input.billerCode, reference: input.account },
        ussdPrincipal(customerId),
      );
      return result.valid ? { account: result.reference } : { refused: 'INVALID_BILL_REFERENCE' };
    } catch (error) {
      return { refused: refusalOf(error).code };
    }
  }

  async quoteBill(
    customerId: string,
    input: { billerCode: string; account: string; amount: bigint },
  ): Promise<Quote> {
    try {
      const biller = await this.apis.bills.byCode(input.billerCode);
      if (!biller.active) return { kind: 'refused', code: 'BILLER_UNAVAILABLE', details: {} };
      await this.assertBelowOtpThreshold(input.amount, biller.currency);
      const account = await this.checkBillAccount(customerId, {
        billerCode: input.billerCode,
        account: input.account,
      });
      if ('refused' in account) return { kind: 'refused', code: account.refused, details: {} };
      if (input.amount < biller.minAmount || (biller.maxAmount !== null && input.amount > biller.maxAmount))
        return {
          kind: 'refused',
          code: 'AMOUNT_OUT_OF_RANGE',
          details: {
            min: formatMoney(biller.minAmount, biller.currency),
            max: biller.maxAmount === null ? null : formatMoney(biller.maxAmount, biller.currency),
          },
        };
      // The plan BillsService.pay hands the engine.
      return await this.#checked(customerId, {
        type: 'bill',
        destination: { kind: 'account', accountId: biller.settlementAccountId },
        amount: input.amount,
        currency: biller.currency,
        feature: 'bill_payment',
        billerId: biller.id,
      });
    } catch (error) {
      return refusalOf(error);
    }
  }

  async merchantByTill(till: string): Promise<MerchantChoice | null> {
    return (await this.merchantTarget(till))?.merchant ?? null;
  }

  /** The merchant and its wallet, by till number. */
  protected async merchantTarget(
    till: string,
  ): Promise<{ merchant: MerchantChoice; walletId: string } | null> {
    const number = tillNumber(till);
    if (!number) return null;
    // MerchantsService.list limits a customer to the merchants they own; looking one merchant up by its public
    // number is not an owner's read, so it is asked as the registry (only id, name, number and currency leave here).
    const page = await this.apis.merchants.list(
      { merchant_number: number, status: 'active', limit: 1 },
      registryReader,
    );
    const found = page.items[0];
    if (!found?.wallet_id) return null;
    return {
      merchant: { id: found.id, number: found.merchant_number, name: found.name, currency: found.currency },
      walletId: found.wallet_id,
    };
  }

  async quoteMerchant(customerId: string, input: { till: string; amount: bigint }): Promise<Quote> {
    try {
      const target = await this.merchantTarget(input.till);
      if (!target) throw ussdErrors.USSD_MERCHANT_NOT_FOUND({ params: { till: input.till } });
      const { merchant } = target;
      await this.assertBelowOtpThreshold(input.amount, merchant.currency);
      // The plan MerchantPayments.pay hands the engine.
      return await this.#checked(customerId, {
        type: 'merchant',
        destination: { kind: 'wallet', walletId: target.walletId },
        amount: input.amount,
        currency: merchant.currency,
        feeRule: 'merchant',
        feature: 'qr_payment',
        merchantId: merchant.id,
      });
    } catch (error) {
      return refusalOf(error);
    }
  }

  async airtimeBillers(customerId: string, currency: string): Promise<BillerChoice[]> {
    return this.#allBillers(customerId, { category: 'airtime', currency });
  }

  async airtimeBiller(
    customerId: string,
    network: string | null,
    currency: string,
  ): Promise<BillerChoice | null> {
    const candidates = network ? (AIRTIME_NETWORKS[network.trim().toLowerCase()] ?? []) : [];
    if (candidates.length === 0) return null;
    const billers = await this.airtimeBillers(customerId, currency);
    return billers.find((biller) => candidates.includes(biller.code)) ?? null;
  }

  async miniStatement(customerId: string, count = 5): Promise<StatementLine[]> {
    return statementLines(this.apis, customerId, count);
  }

  /**
   * The engine's checks leave the balance to the ledger at the commit; USSD tells it before the PIN (the commit still
   * decides, with the same refusal, if the balance moved meanwhile).
   */
  async #assertCovered(
    customerId: string,
    currency: string,
    total: bigint,
    walletId?: string,
  ): Promise<void> {
    const id = walletId ?? (await this.apis.wallets.customerWallet(customerId, currency)).id;
    const { available } = await this.apis.wallets.balance(id, ussdPrincipal(customerId));
    if (available < total) throw transactionErrors.insufficientBalance(total, available);
  }

  /**
   * A payment from the customer's wallet in the plan's currency, checked by the engine without posting (the fee and
   * every refusal before the PIN) and against the available balance.
   */
  async #checked(
    customerId: string,
    plan: Omit<MovementPlan, 'channel' | 'initiator' | 'source'>,
  ): Promise<Quote> {
    const source = await this.apis.wallets.customerWallet(customerId, plan.currency);
    const { quote } = await this.apis.transactions.engine.check({
      ...plan,
      channel: 'ussd',
      initiator: { type: 'customer', id: customerId },
      source: { kind: 'wallet', walletId: source.id },
    });
    await this.#assertCovered(customerId, plan.currency, quote.total, source.id);
    return this.#quoted(plan.amount, plan.currency, quote.total);
  }

  #quoted(amount: bigint, currency: string, total: bigint): Quote {
    return { kind: 'ok', amount, charges: total - amount, total, currency };
  }

  async #allBillers(
    customerId: string,
    filter: { category?: string; currency: string },
  ): Promise<BillerChoice[]> {
    const principal = ussdPrincipal(customerId);
    const found: BillerChoice[] = [];
    let cursor: string | undefined;
    // A USSD list pages itself ("98 More"); a registry larger than a few hundred billers is not browsed by keypad.
    for (let page = 0; page < 5; page += 1) {
      const result = await this.apis.bills.list({ ...filter, limit: 100, cursor }, principal);
      found.push(...result.items.map(billerChoice));
      if (!result.next_cursor) break;
      cursor = result.next_cursor;
    }
    return found;
  }
}

/** Reads the merchant registry by public merchant number (see `merchantByTill`). */
const registryReader: Principal = {
  ...ussdPrincipal('00000000-0000-0000-0000-000000000000'),
  type: 'user',
  roles: [],
};
