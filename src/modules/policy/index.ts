/** Access policies (enforced on every staff request) and transaction-control limits. */

import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { defineModule } from '../../platform/modules.ts';
import { policyErrorCatalogue } from './policy.errors.ts';
import { policyRoutes } from './policy.routes.ts';
import { PolicyService, policyErrors } from './policy.service.ts';
import { accessPolicies, transactionLimits } from './policy.tables.ts';

export { PolicyService, type TransactionQuestion } from './policy.service.ts';

export const policyModule = defineModule({
  name: 'policy',
  description: 'Access policies enforced on every staff request, and transaction-control limits',
  dependsOn: [],
  errors: policyErrorCatalogue,
  tables: { accessPolicies, transactionLimits },
  permissions: [
    { code: 'policy:read', description: 'Read access and transaction-control policies' },
    { code: 'policy:manage', description: 'Change policies' },
  ],
  create: ({ deps }) => new PolicyService(deps.database.db),
  // Staff requests must satisfy every access policy bound to their roles.
  guards: (policy, app) => registerPolicyGuard(app, policy),
  routes: (policy) => policyRoutes(policy),
});

/** Register before any route: staff requests must satisfy every access policy bound to their roles. */
function registerPolicyGuard(app: FastifyInstance, policy: PolicyService): void {
  // preValidation runs after the access guard (preParsing), so the principal is known.
  app.addHook('preValidation', async (request) => {
    const principal = request.principal;
    if (principal?.type !== 'user') return;
    // The channel of the staff session (signed in its token), never a header the client chooses.
    const verdict = await policy.evaluateAccess({
      roles: principal.roles,
      ip: request.ip,
      channel: principal.channel,
    });
    if (!verdict.allowed) throw policyErrors.denied(verdict.reasons);
  });
}

export interface LimitSeed {
  kyc_tier: string;
  channel: string;
  transaction_type: string;
  period: 'single' | 'daily' | 'monthly';
  currency: string;
  max_amount_minor: bigint;
}

/**
 * Loads a default limit only when no limit exists for its tier, currency, transaction type and period, so changed
 * limits survive re-seeding (a deleted default comes back at the next start: deactivate rather than delete).
 */
export async function seedTransactionLimits(db: Executor, seeds: LimitSeed[]): Promise<void> {
  await inTransaction(db, async (tx) => {
    for (const seed of seeds) {
      const [existing] = await tx
        .select({ id: transactionLimits.id })
        .from(transactionLimits)
        .where(
          and(
            eq(transactionLimits.kycTier, seed.kyc_tier),
            eq(transactionLimits.currency, seed.currency),
            eq(transactionLimits.transactionType, seed.transaction_type),
            eq(transactionLimits.period, seed.period),
          ),
        )
        .limit(1);
      if (existing) continue;
      await tx.insert(transactionLimits).values({
        id: uuidv7(),
        kycTier: seed.kyc_tier,
        channel: seed.channel,
        transactionType: seed.transaction_type,
        period: seed.period,
        currency: seed.currency,
        maxAmountMinor: seed.max_amount_minor,
      });
    }
  });
}
