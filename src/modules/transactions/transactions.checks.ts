/**
 * Every check of a payment before it may move money: the parties exist and differ, wallet statuses and currencies,
 * the channel and the KYC tier's feature, the fee quote, product and KYC-tier limits (each amount limit at the owner's
 * limit scale, customers.limits.ts) against the day and month usage — all against one read of the wallets' state
 * (`WalletsService.facts`).
 */
import type { Executor } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import { money } from '../../platform/money.ts';
import type { PolicyService } from '../policy/index.ts';
import {
  feeFor,
  type Usage,
  type WalletLimits,
  type WalletRow,
  type WalletState,
  type WalletsService,
} from '../wallets/index.ts';
import { transactionErrors } from './transactions.errors.ts';
import type { Checked, MovementPlan, Quote } from './transactions.plan.ts';

export class PaymentChecks {
  readonly #wallets: WalletsService;
  readonly #policy: PolicyService;

  constructor(wallets: WalletsService, policy: PolicyService) {
    this.#wallets = wallets;
    this.#policy = policy;
  }

  /**
   * Every check of a payment, against one read of its wallets' state (`WalletsService.facts`): status, currency,
   * channel and tier features, fee, product and tier limits. Under lock that read is a statement of its own after the
   * locking one, so it sees every payment committed before the lock was granted (a daily limit holds under any
   * concurrency); without locks, `payment_commit` compares the same state again under the lock.
   */
  async validate(
    executor: Executor,
    plan: MovementPlan,
    rows: Map<string, WalletRow>,
    at: Date,
    states?: ReadonlyMap<string, WalletState>,
  ): Promise<Checked> {
    if (
      plan.source.kind === 'wallet' &&
      plan.destination.kind === 'wallet' &&
      plan.source.walletId === plan.destination.walletId
    )
      throw transactionErrors.sameWallet();
    if (plan.source.kind === 'wallet' && !rows.has(plan.source.walletId))
      throw transactionErrors.walletNotFound();
    if (plan.destination.kind === 'wallet' && !rows.has(plan.destination.walletId))
      throw transactionErrors.recipientUnavailable();
    const facts = await this.#wallets.facts(executor, rows.values(), at, states);
    const wallets = new Map([...facts].map(([id, fact]) => [id, fact.wallet]));
    const source = plan.source.kind === 'wallet' ? wallets.get(plan.source.walletId) : undefined;
    const destination =
      plan.destination.kind === 'wallet' ? wallets.get(plan.destination.walletId) : undefined;
    if (source) {
      if (source.status !== 'active' && !(plan.allowFrozen && source.status === 'frozen'))
        throw transactionErrors.walletNotActive(source.status);
      if (source.currency !== plan.currency)
        throw transactionErrors.currencyMismatch(source.currency, plan.currency);
    }
    if (destination) {
      if (destination.status !== 'active' && !(plan.allowFrozen && destination.status === 'frozen'))
        throw transactionErrors.recipientUnavailable();
      const expected = plan.destinationCurrency ?? plan.currency;
      if (destination.currency !== expected)
        throw transactionErrors.currencyMismatch(destination.currency, expected);
    }
    let quote: Quote = { fee: 0n, tax: 0n, total: plan.amount };
    if (source) {
      const { limits, product, usage } = facts.get(source.id)!;
      if (plan.initiator.type === 'customer') {
        if (!product.allowedChannels.includes(plan.channel))
          throw transactionErrors.channelNotAllowed(plan.channel);
        if (plan.feature && !(limits.features[plan.channel] ?? []).includes(plan.feature))
          throw transactionErrors.featureNotAllowed(plan.feature, plan.channel, limits.tier);
      }
      const rule = plan.feeRule === null ? undefined : product.fees[plan.feeRule ?? plan.type];
      const { fee, tax } = feeFor(rule, money(plan.amount, plan.currency));
      quote = {
        fee: fee.amount_minor,
        tax: tax.amount_minor,
        total: plan.amount + fee.amount_minor + tax.amount_minor,
      };
      if (plan.limits !== false && source.ownerType === 'customer')
        await this.#checkLimits(executor, source, 'send', plan, limits, usage.send);
    }
    let destinationMaxBalance: bigint | null = null;
    if (destination?.ownerType === 'customer') {
      const { limits, usage } = facts.get(destination.id)!;
      destinationMaxBalance = limits.maxBalance;
      try {
        if (plan.limits !== false)
          await this.#checkLimits(executor, destination, 'receive', plan, limits, usage.receive);
      } catch (error) {
        if (error instanceof AppError && error.errorCode === 'LIMIT_EXCEEDED')
          throw transactionErrors.recipientLimit();
        throw error;
      }
    }
    return { quote, destinationMaxBalance, wallets, facts, at };
  }

  async #checkLimits(
    executor: Executor,
    wallet: WalletRow,
    direction: 'send' | 'receive',
    plan: MovementPlan,
    limits: WalletLimits,
    used: Usage,
  ): Promise<void> {
    const amount = direction === 'receive' ? (plan.destinationAmount ?? plan.amount) : plan.amount;
    if (limits.tier) {
      const verdict = await this.#policy.evaluateTransaction(
        {
          kyc_tier: limits.tier,
          channel: plan.channel,
          transaction_type: direction,
          currency: wallet.currency,
          amount,
          used,
          limit_percent: limits.limitPercent,
        },
        executor,
      );
      const [first] = verdict.violations;
      if (first)
        throw transactionErrors.limitExceeded({
          scope: 'kyc_tier',
          period: first.period,
          kind: first.kind,
          limit: first.limit,
          remaining: first.remaining,
        });
    }
    if (direction !== 'send') return;
    const product = limits.product;
    const checks: [string, bigint | null, bigint][] = [
      ['single', product.single_minor, 0n],
      ['daily', product.daily_minor, used.daily_amount],
      ['monthly', product.monthly_minor, used.monthly_amount],
    ];
    for (const [period, set, usedAmount] of checks) {
      if (set === null) continue;
      // The customer's limit scale, as policy applies it to the tier's limits: rounded down in minor units.
      const limit = limits.limitPercent >= 100 ? set : (set * BigInt(limits.limitPercent)) / 100n;
      if (usedAmount + amount > limit) {
        const remaining = limit > usedAmount ? limit - usedAmount : 0n;
        throw transactionErrors.limitExceeded({ scope: 'product', period, kind: 'amount', limit, remaining });
      }
    }
  }
}
