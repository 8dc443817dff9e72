/**
 * What a payment reads of its wallets before moving money: product, the owner's KYC tier (features, balance cap) and
 * the day and month usage, for all the payment's wallets in one statement.
 */
import { sql } from 'drizzle-orm';
import { type Executor, rawRows } from '../../platform/db.ts';
import type { ProductRow, ProductsService } from './wallets.products.ts';
import type { WalletRow } from './wallets.service.ts';
import type { ProductLimits } from './wallets.tables.ts';

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
  product: ProductLimits;
}

/** What a payment reads of a wallet before moving money: see `WalletsService.facts`. */
export interface WalletFacts {
  product: ProductRow;
  limits: WalletLimits;
  usage: { send: Usage; receive: Usage };
}

/** One wallet's row of the `facts` statement. */
type FactsRow = {
  wallet_id: string;
  tier: string | null;
  max_balance: Record<string, string> | null;
  features: Record<string, string[]> | null;
  usage: { period: string; direction: string; amount: string; count: number }[];
};

/** The balance cap is the lower of the KYC tier's (per currency) and the product's. */
function limitsFrom(
  wallet: WalletRow,
  product: ProductRow,
  tier: { tier: string; maxBalance: Record<string, string>; features: Record<string, string[]> } | undefined,
): WalletLimits {
  if (wallet.ownerType !== 'customer' || !wallet.customerId)
    return { tier: null, features: {}, maxBalance: null, product: product.limits };
  const tierCap = tier?.maxBalance[wallet.currency] ? BigInt(tier.maxBalance[wallet.currency]!) : null;
  const productCap = product.limits.max_balance !== undefined ? BigInt(product.limits.max_balance) : null;
  const maxBalance =
    tierCap === null
      ? productCap
      : productCap === null
        ? tierCap
        : tierCap < productCap
          ? tierCap
          : productCap;
  return { tier: tier?.tier ?? null, features: tier?.features ?? {}, maxBalance, product: product.limits };
}

/**
 * What a payment checks of each wallet, in one statement for all of them: the product, the owner's KYC tier
 * (features, balance cap) and the day and month usage in both directions. Payments call it right after locking
 * the wallets, as a statement of its own, so it sees every payment committed before the lock was granted.
 */
export async function readFacts(
  executor: Executor,
  products: ProductsService,
  rows: Iterable<WalletRow>,
  at: Date,
): Promise<Map<string, WalletFacts>> {
  const list = [...rows];
  const { day, month } = periodsOf(at);
  const customerIds = list
    .filter((row) => row.ownerType === 'customer' && row.customerId)
    .map((row) => row.id);
  const found = new Map<string, FactsRow>();
  if (customerIds.length > 0) {
    const ids = sql.join(
      customerIds.map((id) => sql`${id}::uuid`),
      sql`, `,
    );
    const result = await rawRows<FactsRow>(
      executor,
      sql`select w.id as wallet_id, t.code as tier, t.max_balance, t.features,
            coalesce((select json_agg(json_build_object('period', u.period, 'direction', u.direction,
                                                        'amount', u.amount::text, 'count', u.count))
                      from wallet_usage u where u.wallet_id = w.id and u.period in (${day}, ${month})),
                     '[]'::json) as usage
          from wallets w
          left join customers c on c.id = w.customer_id
          left join kyc_tiers t on t.code = c.kyc_tier
          where w.id in (${ids})`,
    );
    for (const row of result) found.set(row.wallet_id, row);
  }
  const facts = new Map<string, WalletFacts>();
  for (const wallet of list) {
    const product = await products.get(wallet.productId, executor);
    const row = found.get(wallet.id);
    const usageOf = (direction: 'send' | 'receive'): Usage => {
      const daily = row?.usage.find((entry) => entry.direction === direction && entry.period === day);
      const monthly = row?.usage.find((entry) => entry.direction === direction && entry.period === month);
      return {
        daily_amount: daily ? BigInt(daily.amount) : 0n,
        daily_count: daily?.count ?? 0,
        monthly_amount: monthly ? BigInt(monthly.amount) : 0n,
        monthly_count: monthly?.count ?? 0,
      };
    };
    facts.set(wallet.id, {
      product,
      limits: limitsFrom(
        wallet,
        product,
        row?.tier
          ? { tier: row.tier, maxBalance: row.max_balance ?? {}, features: row.features ?? {} }
          : undefined,
      ),
      usage: { send: usageOf('send'), receive: usageOf('receive') },
    });
  }
  return facts;
}
