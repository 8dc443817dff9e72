/**
 * Builds the close-of-business and collections area (index.ts calls these in create / routes / jobs / approvalActions
 * / seed): close of business, collection cases with reschedule, write-off and recovery, and the portfolio figures.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Executor } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { approvalAction, type ModuleContext, type ScheduledTask } from '../../platform/modules.ts';
import { approvalsModule } from '../approvals/index.ts';
import { ledgerModule } from '../ledger/index.ts';
import { notificationsModule } from '../notifications/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { today } from './loans.cob.loan.ts';
import { seedLoanTemplates } from './loans.cob.reminders.ts';
import { cobRoutes } from './loans.cob.routes.ts';
import { CloseOfBusiness } from './loans.cob.ts';
import type { ReschedulePayload, WriteOffPayload } from './loans.collections.actions.ts';
import { collectionRoutes } from './loans.collections.routes.ts';
import { CollectionsService } from './loans.collections.ts';
import { LoanLedger } from './loans.ledger.ts';
import { type PortfolioQuery, portfolioSummary } from './loans.portfolio.ts';

/** Portfolio figures for other modules (the reports module): `summary(query)`. */
export interface PortfolioFigures {
  summary(query: PortfolioQuery): ReturnType<typeof portfolioSummary>;
}

export interface CobArea {
  cob: CloseOfBusiness;
  collections: CollectionsService;
  portfolio: PortfolioFigures;
}

/** The area's services (`cob`, `collections`, `portfolio` of the loans API). */
export function buildCobArea(ctx: ModuleContext): CobArea {
  const db = ctx.deps.database.db;
  const ledger = new LoanLedger(ctx.use(ledgerModule));
  const notifications = ctx.use(notificationsModule).service;
  const collections = new CollectionsService({ db, notifications, ledger, wallets: ctx.use(walletsModule) });
  const cob = new CloseOfBusiness({
    db,
    ledger,
    notifications,
    collections,
    // The worker's log is its standard output (one JSON line per batch).
    log: (progress) => {
      if (ctx.deps.runsWorker)
        process.stdout.write(`${JSON.stringify({ msg: 'loans.cob progress', ...progress })}\n`);
    },
  });
  return { cob, collections, portfolio: { summary: (query) => portfolioSummary(db, query, today()) } };
}

export function cobAreaRoutes(area: CobArea, ctx: ModuleContext): FastifyPluginAsync[] {
  return [
    cobRoutes(area.cob, ctx.deps.database.db),
    collectionRoutes(area.collections, ctx.use(approvalsModule)),
  ] as FastifyPluginAsync[];
}

/** The daily close of business: at 00:20 UTC, for the day that just ended. */
export function cobJobs(area: CobArea): ScheduledTask[] {
  return [
    {
      name: 'loans.close-of-business',
      schedule: '20 0 * * *',
      run: (_db: Executor) => area.cob.runCob(CloseOfBusiness.previousBusinessDate()),
    },
  ];
}

export function cobApprovalActions(area: CobArea) {
  const { workouts } = area.collections;
  return [
    approvalAction<ReschedulePayload>({
      name: 'loan.reschedule',
      description:
        'Reschedule a loan: a new term and rate from its outstanding principal (always needs a second staff member)',
      permission: 'loan:reschedule',
      always: true,
      dedupeKey: (payload) => payload.loan_id,
      execute: (payload, context) => workouts.executeReschedule(payload, context),
    }),
    approvalAction<WriteOffPayload>({
      name: 'loan.write_off',
      description: 'Write a loan off to write-off expense (always needs a second staff member)',
      permission: 'loan:write_off',
      always: true,
      dedupeKey: (payload) => payload.loan_id,
      execute: (payload, context) => workouts.executeWriteOff(payload, context),
    }),
  ];
}

/** The reminder templates (en, fr, sw). */
export function seedCobArea(deps: Dependencies): Promise<void> {
  return seedLoanTemplates(deps);
}
