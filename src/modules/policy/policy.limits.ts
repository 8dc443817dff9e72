/**
 * Transaction-control limits cap amounts and counts per KYC tier, channel, transaction type and period; payments
 * ask `evaluateTransaction` before posting.
 */
import { and, asc, eq, type SQL } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { transactionLimits } from './policy.tables.ts';

type LimitRow = typeof transactionLimits.$inferSelect;

const CACHE_MS = 5000;

export function limitView(row: LimitRow) {
  return {
    id: row.id,
    kyc_tier: row.kycTier,
    channel: row.channel,
    transaction_type: row.transactionType,
    period: row.period,
    currency: row.currency,
    max_amount_minor: row.maxAmountMinor,
    max_count: row.maxCount,
    active: row.active,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export interface LimitInput {
  kyc_tier: string;
  channel: string;
  transaction_type: string;
  period: LimitRow['period'];
  currency: string;
  max_amount_minor: bigint;
  max_count?: number | null;
  active?: boolean;
}

export interface TransactionQuestion {
  kyc_tier: string;
  channel: string;
  transaction_type: string;
  currency: string;
  amount: bigint;
  /** What the customer already moved in the current day and month (the wallet module counts it). */
  used: { daily_amount: bigint; daily_count: number; monthly_amount: bigint; monthly_count: number };
  /**
   * The customer's limit scale (1..100, default 100): every amount limit counts at this percent, rounded down in minor
   * units; the violation reports the scaled limit and remaining. Counts are not scaled.
   */
  limit_percent?: number;
}

/** `limit` at `percent` percent, rounded down in minor units (100 and above: as set). */
export function scaleLimit(limit: bigint, percent = 100): bigint {
  return percent >= 100 ? limit : (limit * BigInt(Math.max(0, Math.trunc(percent)))) / 100n;
}

export class TransactionLimits {
  readonly #db: Executor;
  /** Active limits per `tier:currency`, read on every payment; kept CACHE_MS per node, dropped on local changes. */
  readonly #limitCache = new Map<string, { at: number; rows: LimitRow[] }>();

  constructor(db: Executor) {
    this.#db = db;
  }

  async listLimits(filters: { kyc_tier?: string; currency?: string }) {
    const conditions: SQL[] = [];
    if (filters.kyc_tier) conditions.push(eq(transactionLimits.kycTier, filters.kyc_tier));
    if (filters.currency) conditions.push(eq(transactionLimits.currency, filters.currency));
    const rows = await this.#db
      .select()
      .from(transactionLimits)
      .where(and(...conditions))
      .orderBy(asc(transactionLimits.id))
      .limit(500);
    return { items: rows.map(limitView) };
  }

  async getLimit(id: string) {
    const [row] = await this.#db
      .select()
      .from(transactionLimits)
      .where(eq(transactionLimits.id, id))
      .limit(1);
    if (!row) throw commonErrors.notFound('Transaction limit');
    return limitView(row);
  }

  async createLimit(input: LimitInput, context: RequestContext) {
    this.#limitCache.clear();
    return inTransaction(this.#db, async (tx) => {
      const [row] = await tx
        .insert(transactionLimits)
        .values({
          id: uuidv7(),
          kycTier: input.kyc_tier,
          channel: input.channel,
          transactionType: input.transaction_type,
          period: input.period,
          currency: input.currency,
          maxAmountMinor: input.max_amount_minor,
          maxCount: input.max_count ?? null,
          active: input.active ?? true,
        })
        .returning();
      const view = limitView(row!);
      await writeAudit(tx, context, {
        action: 'policy.limit_created',
        entityType: 'transaction_limit',
        entityId: row!.id,
        after: view,
      });
      return view;
    });
  }

  async updateLimit(
    id: string,
    changes: { max_amount_minor?: bigint; max_count?: number | null; active?: boolean },
    context: RequestContext,
  ) {
    this.#limitCache.clear();
    return inTransaction(this.#db, async (tx) => {
      const [before] = await tx
        .select()
        .from(transactionLimits)
        .where(eq(transactionLimits.id, id))
        .for('update')
        .limit(1);
      if (!before) throw commonErrors.notFound('Transaction limit');
      const [row] = await tx
        .update(transactionLimits)
        .set({
          ...(changes.max_amount_minor !== undefined ? { maxAmountMinor: changes.max_amount_minor } : {}),
          ...(changes.max_count !== undefined ? { maxCount: changes.max_count } : {}),
          ...(changes.active !== undefined ? { active: changes.active } : {}),
          updatedAt: new Date(),
        })
        .where(eq(transactionLimits.id, id))
        .returning();
      const after = limitView(row!);
      await writeAudit(tx, context, {
        action: 'policy.limit_updated',
        entityType: 'transaction_limit',
        entityId: id,
        before: limitView(before),
        after,
      });
      return after;
    });
  }

  async deleteLimit(id: string, context: RequestContext) {
    this.#limitCache.clear();
    await inTransaction(this.#db, async (tx) => {
      const [row] = await tx.delete(transactionLimits).where(eq(transactionLimits.id, id)).returning();
      if (!row) throw commonErrors.notFound('Transaction limit');
      await writeAudit(tx, context, {
        action: 'policy.limit_deleted',
        entityType: 'transaction_limit',
        entityId: id,
        before: limitView(row),
      });
    });
  }

  async #activeLimits(tier: string, currency: string, executor: Executor): Promise<LimitRow[]> {
    const key = `${tier}:${currency}`;
    const cached = this.#limitCache.get(key);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.rows;
    const rows = await executor
      .select()
      .from(transactionLimits)
      .where(
        and(
          eq(transactionLimits.kycTier, tier),
          eq(transactionLimits.currency, currency),
          eq(transactionLimits.active, true),
        ),
      );
    this.#limitCache.set(key, { at: Date.now(), rows });
    return rows;
  }

  /** Which active limits the transaction would break; every matching limit must hold. */
  async evaluateTransaction(question: TransactionQuestion, executor: Executor = this.#db) {
    const rows = await this.#activeLimits(question.kyc_tier, question.currency, executor);
    const violations = [];
    for (const row of rows) {
      if (row.channel !== '*' && row.channel !== question.channel) continue;
      if (row.transactionType !== '*' && row.transactionType !== question.transaction_type) continue;
      const [usedAmount, usedCount] =
        row.period === 'single'
          ? [0n, 0]
          : row.period === 'daily'
            ? [question.used.daily_amount, question.used.daily_count]
            : [question.used.monthly_amount, question.used.monthly_count];
      const total = usedAmount + question.amount;
      const maxAmount = scaleLimit(row.maxAmountMinor, question.limit_percent);
      if (total > maxAmount) {
        violations.push({
          limit_id: row.id,
          period: row.period,
          kind: 'amount' as const,
          limit: maxAmount,
          would_be: total,
          remaining: maxAmount > usedAmount ? maxAmount - usedAmount : 0n,
        });
      }
      if (row.maxCount !== null && row.period !== 'single' && usedCount + 1 > row.maxCount) {
        violations.push({
          limit_id: row.id,
          period: row.period,
          kind: 'count' as const,
          limit: BigInt(row.maxCount),
          would_be: BigInt(usedCount + 1),
          remaining: BigInt(Math.max(0, row.maxCount - usedCount)),
        });
      }
    }
    return { allowed: violations.length === 0, violations };
  }
}
