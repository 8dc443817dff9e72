/**
 * KYC tiers Basic → Standard → Premium → Business: what each requires, the balance cap and transaction limits it
 * carries (limits live in the policy module's transaction-control table, so wallets evaluate one set of rules),
 * and which features it opens per channel. `initiate` opens an application and returns the checklist for the tier.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError, commonErrors } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { verifiedDocumentTypes } from '../documents/index.ts';
import { SEED_DIR } from '../identity/index.ts';
import { type LimitSeed, type PolicyService, seedTransactionLimits } from '../policy/index.ts';
import { customerEmails, customerPhones, customers } from './customers.tables.ts';
import { kycApplications, kycTiers } from './kyc.tables.ts';

type TierRow = typeof kycTiers.$inferSelect;
type ApplicationRow = typeof kycApplications.$inferSelect;

interface TierSeed {
  code: string;
  name: string;
  rank: number;
  required_documents: string[];
  required_verifications: string[];
  max_balance: Record<string, string>;
  features: Record<string, string[]>;
  validity_days: number | null;
  limits: Record<string, { single: number; daily_send: number; monthly_send: number }>;
}

export const kycErrors = {
  unknownTier: (code: string) => new AppError(422, 'UNKNOWN_TIER', `Unknown KYC tier ${code}`),
  notAnUpgrade: (current: string, target: string) =>
    new AppError(409, 'NOT_AN_UPGRADE', `The customer is already at ${current}; ${target} is not above it`, {
      current_tier: current,
      target_tier: target,
    }),
  openApplication: (id: string, target: string) =>
    new AppError(409, 'KYC_IN_PROGRESS', `An application for ${target} is already open`, {
      application_id: id,
    }),
};

export async function seedKycTiers(db: Executor): Promise<void> {
  const seeds = JSON.parse(readFileSync(join(SEED_DIR, 'kyc_tiers.json'), 'utf8')) as TierSeed[];
  await inTransaction(db, async (tx) => {
    for (const seed of seeds) {
      await tx
        .insert(kycTiers)
        .values({
          code: seed.code,
          name: seed.name,
          rank: seed.rank,
          requiredDocuments: seed.required_documents,
          requiredVerifications: seed.required_verifications,
          maxBalance: seed.max_balance,
          features: seed.features,
          validityDays: seed.validity_days,
        })
        .onConflictDoNothing();
    }
  });
  const limits: LimitSeed[] = seeds.flatMap((seed) =>
    Object.entries(seed.limits).flatMap(([currency, limit]) => {
      const base = { kyc_tier: seed.code, channel: '*', currency };
      return [
        { ...base, transaction_type: 'send', period: 'single' as const, max_amount: BigInt(limit.single) },
        { ...base, transaction_type: 'send', period: 'daily' as const, max_amount: BigInt(limit.daily_send) },
        {
          ...base,
          transaction_type: 'send',
          period: 'monthly' as const,
          max_amount: BigInt(limit.monthly_send),
        },
        {
          ...base,
          transaction_type: 'receive',
          period: 'daily' as const,
          max_amount: BigInt(limit.daily_send) * 2n,
        },
        {
          ...base,
          transaction_type: 'receive',
          period: 'monthly' as const,
          max_amount: BigInt(limit.monthly_send) * 2n,
        },
      ];
    }),
  );
  await seedTransactionLimits(db, limits);
}

function applicationView(row: ApplicationRow) {
  return {
    id: row.id,
    customer_id: row.customerId,
    from_tier: row.fromTier,
    target_tier: row.targetTier,
    status: row.status,
    initiated_by: { type: row.initiatedByType, id: row.initiatedById },
    decided_by: row.decidedById,
    decided_at: row.decidedAt?.toISOString() ?? null,
    reason: row.reason,
    created_at: row.createdAt.toISOString(),
  };
}

export class KycService {
  readonly #db: Executor;
  readonly #policy: PolicyService;

  constructor(db: Executor, policy: PolicyService) {
    this.#db = db;
    this.#policy = policy;
  }

  async #tier(executor: Executor, code: string): Promise<TierRow> {
    const [tier] = await executor.select().from(kycTiers).where(eq(kycTiers.code, code)).limit(1);
    if (!tier) throw kycErrors.unknownTier(code);
    return tier;
  }

  async #tierView(tier: TierRow) {
    const { items } = await this.#policy.listLimits({ kyc_tier: tier.code });
    return {
      code: tier.code,
      name: tier.name,
      rank: tier.rank,
      required_documents: tier.requiredDocuments,
      required_verifications: tier.requiredVerifications,
      max_balance: Object.fromEntries(
        Object.entries(tier.maxBalance).map(([currency, value]) => [currency, BigInt(value)]),
      ),
      features: tier.features,
      validity_days: tier.validityDays,
      limits: items
        .filter((limit) => limit.active)
        .map((limit) => ({
          currency: limit.currency,
          transaction_type: limit.transaction_type,
          channel: limit.channel,
          period: limit.period,
          max_amount: limit.max_amount,
        })),
    };
  }

  async listTiers() {
    const tiers = await this.#db.select().from(kycTiers).orderBy(asc(kycTiers.rank));
    return { items: await Promise.all(tiers.map((tier) => this.#tierView(tier))) };
  }

  async getTier(code: string) {
    const [tier] = await this.#db.select().from(kycTiers).where(eq(kycTiers.code, code)).limit(1);
    if (!tier) throw commonErrors.notFound('KYC tier');
    return this.#tierView(tier);
  }

  async updateTier(
    code: string,
    changes: {
      name?: string;
      required_documents?: string[];
      required_verifications?: string[];
      max_balance?: Record<string, number>;
      features?: Record<string, string[]>;
      validity_days?: number | null;
    },
    context: RequestContext,
  ) {
    await inTransaction(this.#db, async (tx) => {
      const [before] = await tx.select().from(kycTiers).where(eq(kycTiers.code, code)).for('update').limit(1);
      if (!before) throw commonErrors.notFound('KYC tier');
      const [after] = await tx
        .update(kycTiers)
        .set({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.required_documents !== undefined
            ? { requiredDocuments: changes.required_documents }
            : {}),
          ...(changes.required_verifications !== undefined
            ? { requiredVerifications: changes.required_verifications }
            : {}),
          ...(changes.max_balance !== undefined
            ? {
                maxBalance: Object.fromEntries(
                  Object.entries(changes.max_balance).map(([key, value]) => [key, String(value)]),
                ),
              }
            : {}),
          ...(changes.features !== undefined ? { features: changes.features } : {}),
          ...(changes.validity_days !== undefined ? { validityDays: changes.validity_days } : {}),
          updatedAt: new Date(),
        })
        .where(eq(kycTiers.code, code))
        .returning();
      await writeAudit(tx, context, {
        action: 'kyc.tier_updated',
        entityType: 'kyc_tier',
        entityId: code,
        before,
        after,
      });
    });
    return this.getTier(code);
  }

  /** Features a tier opens on a channel (other modules ask before offering one). */
  async features(tier: string, channel: string): Promise<string[]> {
    const row = await this.#tier(this.#db, tier);
    return row.features[channel] ?? [];
  }

  /** Opens an application for a higher tier and says what it still needs. */
  async initiate(customerId: string, targetTier: string, principal: Principal, context: RequestContext) {
    const { application, checklist } = await inTransaction(this.#db, async (tx) => {
      const [customer] = await tx
        .select()
        .from(customers)
        .where(eq(customers.id, customerId))
        .for('update')
        .limit(1);
      if (!customer || customer.erasedAt) throw commonErrors.notFound('Customer');
      const current = await this.#tier(tx, customer.kycTier);
      const target = await this.#tier(tx, targetTier);
      if (target.rank <= current.rank) throw kycErrors.notAnUpgrade(current.code, target.code);
      const [open] = await tx
        .select()
        .from(kycApplications)
        .where(
          and(
            eq(kycApplications.customerId, customerId),
            inArray(kycApplications.status, ['initiated', 'submitted']),
          ),
        )
        .orderBy(desc(kycApplications.createdAt))
        .limit(1);
      let row = open;
      if (open && open.targetTier !== targetTier) throw kycErrors.openApplication(open.id, open.targetTier);
      if (!row) {
        [row] = await tx
          .insert(kycApplications)
          .values({
            id: uuidv7(),
            customerId,
            fromTier: current.code,
            targetTier,
            status: 'initiated',
            initiatedByType: principal.type,
            initiatedById: principal.id,
          })
          .returning();
        await writeAudit(tx, context, {
          action: 'kyc.initiated',
          entityType: 'customer',
          entityId: customerId,
          after: { application_id: row!.id, from_tier: current.code, target_tier: targetTier },
        });
      }
      const [phone] = await tx
        .select({ verifiedAt: customerPhones.verifiedAt })
        .from(customerPhones)
        .where(and(eq(customerPhones.customerId, customerId), eq(customerPhones.primary, true)))
        .limit(1);
      const [email] = await tx
        .select({ verifiedAt: customerEmails.verifiedAt })
        .from(customerEmails)
        .where(and(eq(customerEmails.customerId, customerId), eq(customerEmails.primary, true)))
        .limit(1);
      const verified: Record<string, boolean> = {
        phone: Boolean(phone?.verifiedAt),
        email: Boolean(email?.verifiedAt),
      };
      const documentsHeld = await verifiedDocumentTypes(tx, customerId);
      const items = [
        // A document counts once staff verified it and it has not expired.
        ...target.requiredDocuments.map((code) => ({
          kind: 'document' as const,
          code,
          satisfied: documentsHeld.has(code),
        })),
        ...target.requiredVerifications.map((code) => ({
          kind: 'verification' as const,
          code,
          satisfied: verified[code] ?? false,
        })),
      ];
      return { application: applicationView(row!), checklist: items };
    });
    return { application, target_tier: await this.getTier(targetTier), checklist };
  }

  async applications(customerId: string) {
    const rows = await this.#db
      .select()
      .from(kycApplications)
      .where(eq(kycApplications.customerId, customerId))
      .orderBy(desc(kycApplications.createdAt))
      .limit(100);
    return { items: rows.map(applicationView) };
  }
}
