/**
 * What a payment reads of its wallets before moving money: product, the owner's KYC tier (features, balance cap), the
 * owner's limit scale and the day and month usage, for all the payment's wallets in one statement.
 */
import { and, eq, inArray, or, sql } from 'drizzle-orm';
import { type Executor, perDatabase, rawRows, readRetried } from '../../platform/db.ts';
import { type ProductRow, type ProductsService, productLimit } from './wallets.products.ts';
import type { WalletRow } from './wallets.service.ts';
import { type ProductLimits, wallets, walletUsage } from './wallets.tables.ts';

export interface Usage {
  daily_amount: bigint;
  daily_count: number;
  monthly_amount: bigint;
  monthly_count: number;
}

/** UTC period keys of a usage counter. */
export function periodsOf(at: Date): { day: string; month: string } {
  const iso = at.toISOString();
  return { day: `d:${iso.slice(0, 10)}`, month: `m:${iso.slice(0, 7)}` };
}

export interface WalletLimits {
  tier: string | null;
  features: Record<string, string[]>;
  maxBalance: bigint | null;
  /** The product's send limits in minor units of the wallet's currency; null where the product sets none. */
  product: { single_minor: bigint | null; daily_minor: bigint | null; monthly_minor: bigint | null };
  /**
   * The owner's limit scale (customers.limits.ts): the payment checks count every KYC-tier and product amount limit
   * of this wallet at this percent (1..100; 100 for a wallet no customer owns). The balance cap is not scaled.
   */
  limitPercent: number;
}

function productLimitsOf(limits: ProductLimits): WalletLimits['product'] {
  return {
    single_minor: productLimit(limits, 'single_minor'),
    daily_minor: productLimit(limits, 'daily_minor'),
    monthly_minor: productLimit(limits, 'monthly_minor'),
  };
}

/**
 * A wallet as `payment_wallet_state` (migrations 0024, 0054) reports it: the wallet's own fields, its owner's KYC
 * tier and limit scale, and the day and month usage. The payment checks read nothing else of the wallet, and `payment_commit` compares it again
 * under the lock, so a payment validated against this state is posted only while the state is the same.
 */
export interface WalletState {
  status: WalletRow['status'];
  currency: string;
  product_id: string;
  owner_type: WalletRow['ownerType'];
  customer_id: string | null;
  merchant_id: string | null;
  tier: string | null;
  max_balance: Record<string, string> | null;
  features: Record<string, string[]> | null;
  /** The owning customer's limit scale (migration 0054); null for a wallet no customer owns. */
  limit_percent: number | null;
  usage: { period: string; direction: string; amount: string; count: number }[];
}

/** What a payment reads of a wallet before moving money: see `WalletsService.facts`. */
export interface WalletFacts {
  /** The wallet row with the fields of `state` (status, currency, product, owner) as read with it. */
  wallet: WalletRow;
  product: ProductRow;
  limits: WalletLimits;
  usage: { send: Usage; receive: Usage };
  /** Exactly as read, for the re-check under lock (a JSON value compared as jsonb). */
  state: WalletState;
}

/** The balance cap is the lower of the KYC tier's (per currency) and the product's. */
function limitsFrom(
  wallet: WalletRow,
  product: ProductRow,
  tier: { tier: string; maxBalance: Record<string, string>; features: Record<string, string[]> } | undefined,
  limitPercent: number,
): WalletLimits {
  if (wallet.ownerType !== 'customer' || !wallet.customerId)
    return {
      tier: null,
      features: {},
      maxBalance: null,
      product: productLimitsOf(product.limits),
      limitPercent: 100,
    };
  const tierCap = tier?.maxBalance[wallet.currency] ? BigInt(tier.maxBalance[wallet.currency]!) : null;
  const productCap = productLimit(product.limits, 'max_balance_minor');
  const maxBalance =
    tierCap === null
      ? productCap
      : productCap === null
        ? tierCap
        : tierCap < productCap
          ? tierCap
          : productCap;
  return {
    tier: tier?.tier ?? null,
    features: tier?.features ?? {},
    maxBalance,
    product: productLimitsOf(product.limits),
    limitPercent,
  };
}

/**
 * What a payment checks of each wallet, in one statement for all of them: the wallet's status, currency and product,
 * the owner's KYC tier (features, balance cap) and the day and month usage in both directions. Payments call it right
 * after locking the wallets, as a statement of its own, so it sees every payment committed before the lock was
 * granted; or without locks, and `payment_commit` reads the same state again under the lock.
 */
export async function readFacts(
  executor: Executor,
  products: ProductsService,
  rows: Iterable<WalletRow>,
  at: Date,
  known?: ReadonlyMap<string, WalletState>,
): Promise<Map<string, WalletFacts>> {
  const list = [...rows];
  const facts = new Map<string, WalletFacts>();
  if (list.length === 0) return facts;
  const { day, month } = periodsOf(at);
  let found = known;
  if (!found || list.some((row) => !found!.has(row.id))) {
    const result = await rawRows<{ wallet_id: string; state: WalletState }>(
      executor,
      sql`select wallet_id, state from payment_wallet_state(${`{${list.map((row) => row.id).join(',')}}`}::uuid[],
            ${day}, ${month})`,
    );
    found = new Map(result.map((row) => [row.wallet_id, row.state]));
  }
  for (const row of list) {
    const state = found.get(row.id);
    // Wallets are never deleted: a row the caller holds has a state.
    if (!state) throw new Error(`payment_wallet_state: no wallet ${row.id}`);
    const wallet: WalletRow = {
      ...row,
      status: state.status,
      currency: state.currency,
      productId: state.product_id,
      ownerType: state.owner_type,
      customerId: state.customer_id,
      merchantId: state.merchant_id,
    };
    const product = await products.get(wallet.productId, executor);
    const usageOf = (direction: 'send' | 'receive'): Usage => {
      const daily = state.usage.find((entry) => entry.direction === direction && entry.period === day);
      const monthly = state.usage.find((entry) => entry.direction === direction && entry.period === month);
      return {
        daily_amount: daily ? BigInt(daily.amount) : 0n,
        daily_count: daily?.count ?? 0,
        monthly_amount: monthly ? BigInt(monthly.amount) : 0n,
        monthly_count: monthly?.count ?? 0,
      };
    };
    facts.set(row.id, {
      wallet,
      product,
      limits: limitsFrom(
        wallet,
        product,
        state.tier
          ? { tier: state.tier, maxBalance: state.max_balance ?? {}, features: state.features ?? {} }
          : undefined,
        state.limit_percent ?? 100,
      ),
      usage: { send: usageOf('send'), receive: usageOf('receive') },
      state,
    });
  }
  return facts;
}

/** Wallets found together with their `payment_wallet_state`, as of `at` (see `readTransferParties`). */
export interface PartiesRead {
  source: WalletRow | undefined;
  destination: WalletRow | undefined;
  states: Map<string, WalletState>;
  at: Date;
}

const partiesQuery = perDatabase((db: Executor) =>
  db
    .select({
      wallet: wallets,
      state: sql<WalletState>`(select s.state from payment_wallet_state(array[${wallets.id}],
        ${sql.placeholder('day')}, ${sql.placeholder('month')}) s)`,
    })
    .from(wallets)
    .where(
      or(
        and(
          eq(wallets.customerId, sql.placeholder('customerId')),
          eq(wallets.currency, sql.placeholder('currency')),
          eq(wallets.ownerType, 'customer'),
        ),
        eq(wallets.walletNumber, sql.placeholder('walletNumber')),
      ),
    )
    .limit(2)
    .prepare('wallets_transfer_parties'),
);

/**
 * A customer's wallet in a currency and the wallet with a number, each with its payment state, in one statement: a
 * P2P transfer's lookups and its checks' read together (the state is compared again under lock at commit). Either
 * may be missing; the destination is returned whatever its currency and owner (the caller decides).
 */
export async function readTransferParties(
  executor: Executor,
  input: { customerId: string; currency: string; walletNumber: string },
  at: Date,
): Promise<PartiesRead> {
  const { day, month } = periodsOf(at);
  const rows = await readRetried(() => partiesQuery(executor).execute({ ...input, day, month }));
  const source = rows.find(
    ({ wallet }) =>
      wallet.customerId === input.customerId &&
      wallet.currency === input.currency &&
      wallet.ownerType === 'customer',
  )?.wallet;
  const destination = rows.find(({ wallet }) => wallet.walletNumber === input.walletNumber)?.wallet;
  return { source, destination, states: new Map(rows.map(({ wallet, state }) => [wallet.id, state])), at };
}

/** What one movement adds to (or takes back from) one wallet side's counters. */
export interface UsageEntry {
  walletId: string;
  direction: 'send' | 'receive';
  amount: bigint;
}

/** Adds what moved to the day and month counters of each wallet side, in one statement. */
export async function addUsage(tx: Executor, entries: UsageEntry[], at: Date): Promise<void> {
  if (entries.length === 0) return;
  const { day, month } = periodsOf(at);
  await tx
    .insert(walletUsage)
    .values(
      entries.flatMap(({ walletId, direction, amount }) => [
        { walletId, period: day, direction, amount, count: 1 },
        { walletId, period: month, direction, amount, count: 1 },
      ]),
    )
    .onConflictDoUpdate({
      target: [walletUsage.walletId, walletUsage.period, walletUsage.direction],
      set: {
        amount: sql`${walletUsage.amount} + excluded.amount`,
        count: sql`${walletUsage.count} + 1`,
      },
    });
}

/** Takes back usage counted for a movement that did not happen (a bank refusal after the hold), by its day. */
export async function releaseUsage(tx: Executor, entries: UsageEntry[], at: Date): Promise<void> {
  const { day, month } = periodsOf(at);
  for (const { walletId, direction, amount } of entries) {
    await tx
      .update(walletUsage)
      .set({
        amount: sql`greatest(${walletUsage.amount} - ${amount}, 0)`,
        count: sql`greatest(${walletUsage.count} - 1, 0)`,
      })
      .where(
        and(
          eq(walletUsage.walletId, walletId),
          eq(walletUsage.direction, direction),
          inArray(walletUsage.period, [day, month]),
        ),
      );
  }
}
