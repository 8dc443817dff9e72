/**
 * How the reports area plugs into the aml module (index.ts): its service (the ReportWriter the cases area files STRs
 * through), its routes and its subscription (a CTR for each cash transaction over the threshold).
 */
import { systemContext } from '../../platform/audit.ts';
import { on, type Subscription } from '../../platform/events.ts';
import type { ModuleContext } from '../../platform/modules.ts';
import { settingsModule } from '../settings/index.ts';
import { transactionCompleted, transactionsModule } from '../transactions/index.ts';
import { walletsModule } from '../wallets/index.ts';
import type { ReportsConfigValues } from './aml.reports.config.ts';
import { reportRoutes } from './aml.reports.routes.ts';
import { ReportsService } from './aml.reports.ts';

export { reportsConfig } from './aml.reports.config.ts';

export function buildReports(ctx: ModuleContext): ReportsService {
  return new ReportsService({
    db: ctx.deps.database.db,
    keys: ctx.deps.keys,
    settings: ctx.use(settingsModule),
    wallets: ctx.use(walletsModule),
    fx: ctx.use(transactionsModule).fx,
    config: ctx.config as unknown as ReportsConfigValues,
  });
}

export function reportsRoutes(api: { reports: ReportsService }) {
  return reportRoutes(api.reports);
}

/** A CTR for a cash transaction (teller or agent) at or above the threshold; idempotent per transaction. */
export function reportsSubscriptions(api: { reports: ReportsService }): Subscription[] {
  return [
    on(transactionCompleted, async (tx, event) => {
      await api.reports.ctrFor(tx, event.payload, systemContext(`event:${event.id}`));
    }),
  ];
}
