/** How the commission area plugs into the agents module (index.ts): its services, routes, job and subscription. */
import { systemContext } from '../../platform/audit.ts';
import { on, type Subscription } from '../../platform/events.ts';
import type { ModuleContext, ScheduledTask } from '../../platform/modules.ts';
import { transactionReversed } from '../disputes/index.ts';
import { ledgerModule } from '../ledger/index.ts';
import { transactionsModule } from '../transactions/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { agentRow } from './agents.commission.repository.ts';
import { commissionRoutes } from './agents.commission.routes.ts';
import { seedCommissionPlans } from './agents.commission.seed.ts';
import { CommissionService } from './agents.commissions.ts';
import { connectPerformance, PerformanceService, type ViolationRates } from './agents.performance.ts';
import type { OperatorScopes } from './agents.ports.ts';

export function buildCommissions(ctx: ModuleContext) {
  const db = ctx.deps.database.db;
  return {
    commissions: new CommissionService({
      db,
      ledger: ctx.use(ledgerModule),
      engine: ctx.use(transactionsModule).service.engine,
      wallets: ctx.use(walletsModule),
    }),
    performance: new PerformanceService(db),
  };
}

export function commissionAreaRoutes(
  api: {
    commissions: CommissionService;
    performance: PerformanceService;
    scopes: OperatorScopes;
    geo?: ViolationRates;
  },
  ctx: ModuleContext,
) {
  // Every area is built by now: performance takes the geo area's violation rate, and the cash area's reads if
  // an area offers them (found by shape).
  if (api.geo) api.performance.connect({ geo: api.geo });
  connectPerformance(api.performance, api);
  const db = ctx.deps.database.db;
  return commissionRoutes(api.commissions, api.performance, api.scopes, async (id) => {
    const agent = await agentRow(db, id);
    return agent?.parentId ?? null;
  });
}

/** Every day at 02:10 UTC: pays what accrued before midnight UTC (idempotent per agent and period). */
export function commissionJobs(commissions: CommissionService): ScheduledTask[] {
  return [
    {
      name: 'agents.commission-payout',
      schedule: '10 2 * * *',
      run: () => {
        const midnight = new Date();
        midnight.setUTCHours(0, 0, 0, 0);
        return commissions.payout({ period_end: midnight.toISOString() }, systemContext());
      },
    },
  ];
}

/** A reversed cash-in or cash-out claws its commissions back. */
export function commissionSubscriptions(commissions: CommissionService): Subscription[] {
  return [on(transactionReversed, (tx, event) => commissions.clawback(tx, event))];
}

export const seedCommissionArea = seedCommissionPlans;
