/**
 * What KYC runs outside requests: the seed of the tiers and their default transaction limits (in policy's table),
 * and the daily lapse of tiers past their validity.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { lapseCustomerTiers } from '../customers/index.ts';
import { SEED_DIR } from '../identity/index.ts';
import { type LimitSeed, seedTransactionLimits } from '../policy/index.ts';
import { kycTiers } from './kyc.tables.ts';

interface TierSeed {
  code: string;
  name: string;
  rank: number;
  required_documents: string[];
  required_verifications: string[];
  max_balance: Record<string, string>;
  features: Record<string, string[]>;
  validity_days: number | null;
  limits: Record<string, { single_minor: number; daily_send_minor: number; monthly_send_minor: number }>;
}

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
        {
          ...base,
          transaction_type: 'send',
          period: 'single' as const,
          max_amount_minor: BigInt(limit.single_minor),
        },
        {
          ...base,
          transaction_type: 'send',
          period: 'daily' as const,
          max_amount_minor: BigInt(limit.daily_send_minor),
        },
        {
          ...base,
          transaction_type: 'send',
          period: 'monthly' as const,
          max_amount_minor: BigInt(limit.monthly_send_minor),
        },
        {
          ...base,
          transaction_type: 'receive',
          period: 'daily' as const,
          max_amount_minor: BigInt(limit.daily_send_minor) * 2n,
        },
        {
          ...base,
          transaction_type: 'receive',
          period: 'monthly' as const,
          max_amount_minor: BigInt(limit.monthly_send_minor) * 2n,
        },
      ];
    }),
  );
  await seedTransactionLimits(db, limits);
}

/** Tiers past their validity fall back to basic (re-KYC was due); run daily by the worker. */
export async function expireKycTiers(db: Executor): Promise<number> {
  return inTransaction(db, async (tx) => {
    const lapsed = await lapseCustomerTiers(tx, 'basic', new Date());
    for (const id of lapsed) {
      await writeAudit(tx, systemContext(), {
        action: 'kyc.tier_expired',
        entityType: 'customer',
        entityId: id,
        after: { kyc_tier: 'basic' },
      });
    }
    return lapsed.length;
  });
}
