/**
 * Builds the close-of-business and collections area (index.ts calls these in create / routes / jobs / approvalActions
 * / seed): close of business, collection cases with reschedule, write-off and recovery, and the portfolio figures.
 */
import type { FastifyPluginAsync } from 'fastify';
import { type ConfigSpec, integer, variable } from '../../platform/config-spec.ts';
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

/** The close of business's part of the loans module's configuration. */
export const cobConfig = {
  LOANS_COB_CONCURRENCY: variable(
    'How many loans close of business closes at once, each in its own transaction (unset: DATABASE_POOL_SIZE minus 2, at ' +
      'least 1; always 1 on the embedded database, which has one connection)',
    undefined,
    integer(1, 200),
  ),
} satisfies ConfigSpec;

/**
 * How many loans close of business closes at once: the configured number, else the pool size minus 2 (a connection
 * left for the API and the worker's other jobs); 1 on PGlite whatever is configured (one connection: a second
 * transaction would wait for the first forever).
 */
export function cobConcurrency(
  kind: 'postgres' | 'pglite',
  poolSize: number,
  configured: number | undefined,
): number {
  if (kind === 'pglite') return 1;
  return Math.max(1, configured ?? poolSize - 2);
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
    concurrency: cobConcurrency(
      ctx.deps.database.kind,
      ctx.deps.config.DATABASE_POOL_SIZE,
      (ctx.config as { LOANS_COB_CONCURRENCY?: number }).LOANS_COB_CONCURRENCY,
    ),
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
