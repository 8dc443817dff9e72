/**
 * The money port: what the USSD money journeys (balance, send, bill, merchant, airtime, statement) may do, over the
 * wallets, transactions, bills, merchants and settings modules' exported APIs. The customer is the principal, on the
 * `ussd` channel (fixed here: the gateway credential is the channel, never anything a client sends), so the payment
 * engine applies the same PIN and lockout, fees and per-channel and per-tier limits as in the app. Reads and quotes
 * are in ussd.money.quotes.ts; the payments here each run under an idempotency claim (ussd.money.claims.ts).
 */
import { ussdPrincipal, ussdRequestContext } from './ussd.claims.ts';
import { ussdErrors } from './ussd.errors.ts';
import { type MoneyOutcome, runClaimed } from './ussd.money.claims.ts';
import { UssdMoneyReads } from './ussd.money.quotes.ts';
import type { StatementLine } from './ussd.money.read.ts';

export type { MoneyApis } from './ussd.money.apis.ts';
export { type MoneyOutcome, outcomeOf } from './ussd.money.claims.ts';
export { tillNumber } from './ussd.money.quotes.ts';
export { maskName, type StatementLine } from './ussd.money.read.ts';

export interface WalletBalance {
  currency: string;
  balance: bigint;
  available: bigint;
  status: string;
}

export interface Recipient {
  phone: string;
  /** "J*** M***": enough to confirm, never the name. */
  maskedName: string;
}

/** What a payment will cost, checked by the engine before the PIN is asked (balance, limits, features). */
export type Quote =
  | { kind: 'ok'; amount: bigint; charges: bigint; total: bigint; currency: string }
  | { kind: 'refused'; code: string; details: Record<string, unknown> };

export interface BillerChoice {
  code: string;
  name: string;
  category: string;
  currency: string;
  minAmount: bigint;
  maxAmount: bigint | null;
}

export interface MerchantChoice {
  id: string;
  number: string;
  name: string;
  currency: string;
}

/** Who acts, and the idempotency key of the step (`ctx.idempotencyKey('<action>')`). */
export interface MoneyCall {
  customerId: string;
  gateway: string;
  sessionId: string;
  idempotencyKey: string;
}

export interface MoneyPort {
  /** The customer's first active wallet's currency (amounts typed on USSD are in it); null without a wallet. */
  mainCurrency(customerId: string): Promise<string | null>;
  /** Every wallet of the customer, the main currency first. */
  balance(customerId: string): Promise<WalletBalance[]>;
  /** The customer holding a wallet in `currency` under this phone, masked; null when there is none. */
  recipient(customerId: string, phone: string, currency: string): Promise<Recipient | null>;
  quoteTransfer(
    customerId: string,
    input: { phone: string; amount: bigint; currency: string },
  ): Promise<Quote>;
  transfer(
    call: MoneyCall,
    input: { phone: string; amount: bigint; currency: string; pin: string },
  ): Promise<MoneyOutcome>;
  /** Bill categories with an active biller in the currency (airtime apart: it has its own journey). */
  billCategories(customerId: string, currency: string): Promise<string[]>;
  billers(customerId: string, input: { category: string; currency: string }): Promise<BillerChoice[]>;
  biller(customerId: string, code: string): Promise<BillerChoice | null>;
  /** Whether the account number is one the biller accepts (its pattern and check digit); null when it is. */
  checkBillAccount(
    customerId: string,
    input: { billerCode: string; account: string },
  ): Promise<{ account: string } | { refused: string }>;
  quoteBill(
    customerId: string,
    input: { billerCode: string; account: string; amount: bigint },
  ): Promise<Quote>;
  payBill(
    call: MoneyCall,
    input: { billerCode: string; account: string; amount: bigint; pin: string },
  ): Promise<MoneyOutcome>;
  /** An active merchant by till number: the 8 digits of M12345678, with or without the M. */
  merchantByTill(till: string): Promise<MerchantChoice | null>;
  quoteMerchant(customerId: string, input: { till: string; amount: bigint }): Promise<Quote>;
  payMerchant(call: MoneyCall, input: { till: string; amount: bigint; pin: string }): Promise<MoneyOutcome>;
  /** The airtime biller of a network as a gateway reports it (MCC-MNC or name) in the currency; null if none. */
  airtimeBiller(customerId: string, network: string | null, currency: string): Promise<BillerChoice | null>;
  /** Every airtime biller in the currency (for another number, or a network not recognised). */
  airtimeBillers(customerId: string, currency: string): Promise<BillerChoice[]>;
  /** The last `count` settled movements, newest first. */
  miniStatement(customerId: string, count?: number): Promise<StatementLine[]>;
}

export class UssdMoney extends UssdMoneyReads implements MoneyPort {
  #claimed(call: MoneyCall, action: string, request: Record<string, string>) {
    return {
      customerId: call.customerId,
      key: call.idempotencyKey,
      action,
      request,
      context: ussdRequestContext(call.customerId, call),
    };
  }

  #principal(call: MoneyCall) {
    return ussdPrincipal(call.customerId, call);
  }

  transfer(
    call: MoneyCall,
    input: { phone: string; amount: bigint; currency: string; pin: string },
  ): Promise<MoneyOutcome> {
    const action = this.#claimed(call, 'ussd.send', {
      to_phone: input.phone,
      amount: input.amount.toString(),
      currency: input.currency,
    });
    return runClaimed(this.apis.deps.idempotency, action, async (claim) => {
      await this.assertBelowOtpThreshold(input.amount, input.currency);
      return this.apis.transactions.transfer(
        this.#principal(call),
        { to_phone: input.phone, amount: Number(input.amount), currency: input.currency, pin: input.pin },
        'ussd',
        claim,
        action.context,
      );
    });
  }

  payBill(
    call: MoneyCall,
    input: { billerCode: string; account: string; amount: bigint; pin: string },
  ): Promise<MoneyOutcome> {
    const action = this.#claimed(call, 'ussd.bill', {
      biller_code: input.billerCode,
      reference: input.account,
      amount: input.amount.toString(),
    });
    return runClaimed(this.apis.deps.idempotency, action, async (claim) => {
      const biller = await this.apis.bills.byCode(input.billerCode);
      await this.assertBelowOtpThreshold(input.amount, biller.currency);
      return this.apis.bills.pay(
        this.#principal(call),
        {
          biller_code: input.billerCode,
          reference: input.account,
          amount: Number(input.amount),
          currency: biller.currency,
          pin: input.pin,
        },
        'ussd',
        claim,
        action.context,
      );
    });
  }

  payMerchant(call: MoneyCall, input: { till: string; amount: bigint; pin: string }): Promise<MoneyOutcome> {
    const action = this.#claimed(call, 'ussd.merchant', {
      till: input.till,
      amount: input.amount.toString(),
    });
    return runClaimed(this.apis.deps.idempotency, action, async (claim) => {
      const target = await this.merchantTarget(input.till);
      if (!target) throw ussdErrors.USSD_MERCHANT_NOT_FOUND({ params: { till: input.till } });
      await this.assertBelowOtpThreshold(input.amount, target.merchant.currency);
      return this.apis.merchants.pay(
        this.#principal(call),
        {
          merchant_id: target.merchant.id,
          amount: Number(input.amount),
          currency: target.merchant.currency,
          pin: input.pin,
        },
        'ussd',
        claim,
        action.context,
      );
    });
  }
}
