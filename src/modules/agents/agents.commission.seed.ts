/**
 * The default KES commission plan every installation starts with, so an agent earns from its first cash-in.
 * Idempotent: a plan with the code (or another KES default staff made) is left as it is.
 */
import type { Executor } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { insertPlan } from './agents.commission.repository.ts';
import type { CommissionBand } from './agents.tables.ts';

export const DEFAULT_PLAN_CODE = 'kes-standard';

/** KES, in cents: small amounts earn a fixed commission, middle ones a percentage, large ones a capped fixed one. */
export const DEFAULT_KES_RULES: Record<'cash_in' | 'cash_out', CommissionBand[]> = {
  cash_in: [
    { from_minor: '5000', to_minor: '100000', fixed_minor: '1000', percent_bps: 0 },
    { from_minor: '100001', to_minor: '1000000', fixed_minor: '0', percent_bps: 50 },
    { from_minor: '1000001', to_minor: null, fixed_minor: '5000', percent_bps: 0 },
  ],
  cash_out: [
    { from_minor: '5000', to_minor: '250000', fixed_minor: '2000', percent_bps: 0 },
    { from_minor: '250001', to_minor: '2500000', fixed_minor: '0', percent_bps: 80 },
    { from_minor: '2500001', to_minor: null, fixed_minor: '20000', percent_bps: 0 },
  ],
};

export async function seedCommissionPlans(db: Executor): Promise<void> {
  // onConflictDoNothing covers both the code and the one-default-per-currency index.
  await insertPlan(db, {
    id: uuidv7(),
    code: DEFAULT_PLAN_CODE,
    name: 'Standard agent commission (KES)',
    currency: 'KES',
    rules: DEFAULT_KES_RULES,
    superAgentShareBps: 2000,
    isDefault: true,
    payoutDestination: 'float',
  });
}
