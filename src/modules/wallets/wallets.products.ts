/** Wallet products: name, currency, fee schedule per transaction type, product limits and allowed channels. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, mulDivRound } from '../../platform/money.ts';
import { SEED_DIR } from '../identity/index.ts';
import { walletErrors } from './wallets.errors.ts';
import { type FeeRule, type ProductLimits, walletProducts } from './wallets.tables.ts';

export type ProductRow = typeof walletProducts.$inferSelect;

export interface ProductInput {
  code: string;
  name: string;
  currency: string;
  is_default?: boolean;
  fees: Record<string, FeeRule>;
  limits: ProductLimits;
  allowed_channels: string[];
}

export function productView(row: ProductRow) {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    currency: row.currency,
    is_default: row.isDefault,
    fees: row.fees,
    limits: row.limits,
    allowed_channels: row.allowedChannels,
    active: row.active,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Fee and excise duty on it for an amount, in minor units, by the product's rule for the transaction type. */
export function feeFor(rule: FeeRule | undefined, amount: bigint): { fee: bigint; tax: bigint } {
  if (!rule) return { fee: 0n, tax: 0n };
  let fee = BigInt(rule.fixed) + mulDivRound(amount, BigInt(rule.percent_bps), 10_000n);
  if (fee < BigInt(rule.min)) fee = BigInt(rule.min);
  if (rule.max !== null && fee > BigInt(rule.max)) fee = BigInt(rule.max);
  const tax = mulDivRound(fee, BigInt(rule.tax_bps), 10_000n);
  return { fee, tax };
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
            fees: input.fees,
            limits: input.limits,
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
          ...(patch.fees !== undefined ? { fees: patch.fees } : {}),
          ...(patch.limits !== undefined ? { limits: patch.limits } : {}),
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
          fees: seed.fees,
          limits: seed.limits,
          allowedChannels: seed.allowed_channels,
        })
        .onConflictDoNothing();
    }
  });
}
