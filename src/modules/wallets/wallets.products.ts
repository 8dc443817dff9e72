/** Wallet products: name, currency, fee schedule per transaction type, product limits and allowed channels. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import {
  currencyInfo,
  type Money,
  minorFromJson,
  minorToJson,
  money,
  mulDivRound,
} from '../../platform/money.ts';
import { SEED_DIR } from '../identity/index.ts';
import { walletErrors } from './wallets.errors.ts';
import { type FeeRule, type ProductLimits, walletProducts } from './wallets.tables.ts';

export type ProductRow = typeof walletProducts.$inferSelect;

/** A fee rule as the API takes it: whole minor units (stored as decimal strings, see `FeeRule`). */
export interface FeeRuleInput {
  fixed_minor: number | bigint;
  percent_bps: number;
  min_minor: number | bigint;
  max_minor: number | bigint | null;
  tax_bps: number;
}

/** Product limits as the API takes them: whole minor units; absent means none. */
export interface ProductLimitsInput {
  single_minor?: number | bigint;
  daily_minor?: number | bigint;
  monthly_minor?: number | bigint;
  max_balance_minor?: number | bigint;
}

export interface ProductInput {
  code: string;
  name: string;
  currency: string;
  is_default?: boolean;
  fees: Record<string, FeeRuleInput>;
  limits: ProductLimitsInput;
  allowed_channels: string[];
}

const LIMIT_KEYS = ['single_minor', 'daily_minor', 'monthly_minor', 'max_balance_minor'] as const;

/** Fee rules for `wallet_products.fees`: amounts as decimal strings of minor units. */
export function storedFees(fees: Record<string, FeeRuleInput>): Record<string, FeeRule> {
  return Object.fromEntries(
    Object.entries(fees).map(([type, rule]) => [
      type,
      {
        fixed_minor: minorToJson(BigInt(rule.fixed_minor)),
        percent_bps: rule.percent_bps,
        min_minor: minorToJson(BigInt(rule.min_minor)),
        max_minor: rule.max_minor === null ? null : minorToJson(BigInt(rule.max_minor)),
        tax_bps: rule.tax_bps,
      },
    ]),
  );
}

/** Limits for `wallet_products.limits`: decimal strings of minor units, absent ones left out. */
export function storedLimits(limits: ProductLimitsInput): ProductLimits {
  const stored: ProductLimits = {};
  for (const key of LIMIT_KEYS) {
    const value = limits[key];
    if (value !== undefined) stored[key] = minorToJson(BigInt(value));
  }
  return stored;
}

/**
 * A stored amount for the API: a JSON integer, exact because the API takes at most 2^53 - 1 (a nullable bigint cannot
 * be serialised, and `max_minor` is nullable).
 */
function minorNumber(text: string): number {
  const amount = minorFromJson(text);
  if (amount > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError(`${amount} minor units exceeds 2^53 - 1`);
  return Number(amount);
}

function feesView(fees: Record<string, FeeRule>) {
  return Object.fromEntries(
    Object.entries(fees).map(([type, rule]) => [
      type,
      {
        fixed_minor: minorNumber(rule.fixed_minor),
        percent_bps: rule.percent_bps,
        min_minor: minorNumber(rule.min_minor),
        max_minor: rule.max_minor === null ? null : minorNumber(rule.max_minor),
        tax_bps: rule.tax_bps,
      },
    ]),
  );
}

function limitsView(limits: ProductLimits): Partial<Record<(typeof LIMIT_KEYS)[number], number>> {
  const view: Partial<Record<(typeof LIMIT_KEYS)[number], number>> = {};
  for (const key of LIMIT_KEYS) {
    const value = limits[key];
    if (value !== undefined) view[key] = minorNumber(value);
  }
  return view;
}

/** A product limit as an amount of the product's currency; null when the product sets none. */
export function productLimit(product: ProductLimits, key: (typeof LIMIT_KEYS)[number]): bigint | null {
  const value = product[key];
  return value === undefined ? null : minorFromJson(value);
}

export function productView(row: ProductRow) {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    currency: row.currency,
    is_default: row.isDefault,
    fees: feesView(row.fees),
    limits: limitsView(row.limits),
    allowed_channels: row.allowedChannels,
    active: row.active,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/**
 * Fee and excise duty on it for an amount, in the amount's currency, by the product's rule for the transaction type:
 * fixed + basis points of the amount, clamped to [min, max]; the duty is basis points of the fee.
 */
export function feeFor(rule: FeeRule | undefined, amount: Money): { fee: Money; tax: Money } {
  if (!rule) return { fee: money(0n, amount.currency), tax: money(0n, amount.currency) };
  let fee =
    minorFromJson(rule.fixed_minor) + mulDivRound(amount.amount_minor, BigInt(rule.percent_bps), 10_000n);
  const min = minorFromJson(rule.min_minor);
  if (fee < min) fee = min;
  if (rule.max_minor !== null) {
    const max = minorFromJson(rule.max_minor);
    if (fee > max) fee = max;
  }
  const tax = mulDivRound(fee, BigInt(rule.tax_bps), 10_000n);
  return { fee: money(fee, amount.currency), tax: money(tax, amount.currency) };
}

export class ProductsService {
  readonly #db: Executor;
  #cache = new Map<string, { row: ProductRow; at: number }>();

  constructor(db: Executor) {
    this.#db = db;
  }

  /** Products change rarely and are read on every payment: cached for a few seconds per node. */
  async get(id: string, executor: Executor = this.#db): Promise<ProductRow> {
    const cached = this.#cache.get(id);
    if (cached && Date.now() - cached.at < 5_000) return cached.row;
    const [row] = await executor.select().from(walletProducts).where(eq(walletProducts.id, id)).limit(1);
    if (!row) throw walletErrors.productNotFound();
    this.#cache.set(id, { row, at: Date.now() });
    return row;
  }

  async defaultFor(currency: string, executor: Executor = this.#db): Promise<ProductRow> {
    const [row] = await executor
      .select()
      .from(walletProducts)
      .where(
        and(
          eq(walletProducts.currency, currency),
          eq(walletProducts.isDefault, true),
          eq(walletProducts.active, true),
        ),
      )
      .limit(1);
    if (!row) throw walletErrors.noProduct(currency);
    return row;
  }

  async list() {
    const rows = await this.#db.select().from(walletProducts).orderBy(asc(walletProducts.code)).limit(500);
    return rows.map(productView);
  }

  async codes(): Promise<Map<string, string>> {
    const rows = await this.#db
      .select({ id: walletProducts.id, code: walletProducts.code })
      .from(walletProducts)
      .limit(500);
    return new Map(rows.map((row) => [row.id, row.code]));
  }

  async create(input: ProductInput, context: RequestContext) {
    currencyInfo(input.currency);
    try {
      return await inTransaction(this.#db, async (tx) => {
        if (input.is_default) await this.#clearDefault(tx, input.currency);
        const [row] = await tx
          .insert(walletProducts)
          .values({
            id: uuidv7(),
            code: input.code,
            name: input.name,
            currency: input.currency,
            isDefault: input.is_default ?? false,
            fees: storedFees(input.fees),
            limits: storedLimits(input.limits),
            allowedChannels: input.allowed_channels,
          })
          .returning();
        const view = productView(row!);
        await writeAudit(tx, context, {
          action: 'wallet_product.create',
          entityType: 'wallet_product',
          entityId: row!.id,
          after: view,
        });
        return view;
      });
    } catch (error) {
      if (violatedConstraint(error) === 'wallet_products_code_key') throw walletErrors.productExists();
      throw error;
    }
  }

  async update(
    id: string,
    patch: Partial<Omit<ProductInput, 'code' | 'currency'>> & { active?: boolean },
    context: RequestContext,
  ) {
    const result = await inTransaction(this.#db, async (tx) => {
      const [before] = await tx
        .select()
        .from(walletProducts)
        .where(eq(walletProducts.id, id))
        .for('update')
        .limit(1);
      if (!before) throw walletErrors.productNotFound();
      if (patch.is_default) await this.#clearDefault(tx, before.currency);
      const [row] = await tx
        .update(walletProducts)
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.is_default !== undefined ? { isDefault: patch.is_default } : {}),
          ...(patch.fees !== undefined ? { fees: storedFees(patch.fees) } : {}),
          ...(patch.limits !== undefined ? { limits: storedLimits(patch.limits) } : {}),
          ...(patch.allowed_channels !== undefined ? { allowedChannels: patch.allowed_channels } : {}),
          ...(patch.active !== undefined ? { active: patch.active } : {}),
          updatedAt: new Date(),
        })
        .where(eq(walletProducts.id, id))
        .returning();
      const view = productView(row!);
      await writeAudit(tx, context, {
        action: 'wallet_product.update',
        entityType: 'wallet_product',
        entityId: id,
        before: productView(before),
        after: view,
      });
      return view;
    });
    this.#cache.delete(id);
    return result;
  }

  async #clearDefault(tx: Executor, currency: string): Promise<void> {
    await tx
      .update(walletProducts)
      .set({ isDefault: false, updatedAt: new Date() })
      .where(and(eq(walletProducts.currency, currency), eq(walletProducts.isDefault, true)));
  }
}

/** Loads the seed products that do not exist yet (changed products survive re-seeding). */
export async function seedWalletProducts(db: Executor): Promise<void> {
  const seeds = JSON.parse(readFileSync(join(SEED_DIR, 'wallet_products.json'), 'utf8')) as ProductInput[];
  await inTransaction(db, async (tx) => {
    for (const seed of seeds) {
      await tx
        .insert(walletProducts)
        .values({
          id: uuidv7(),
          code: seed.code,
          name: seed.name,
          currency: seed.currency,
          isDefault: seed.is_default ?? false,
          fees: storedFees(seed.fees),
          limits: storedLimits(seed.limits),
          allowedChannels: seed.allowed_channels,
        })
        .onConflictDoNothing();
    }
  });
}
