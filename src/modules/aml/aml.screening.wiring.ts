/**
 * How the screening area plugs into the AML module (index.ts): the list loader, the Screener (matching, in
 * aml.screener.ts), the screening points (the onboarding module's ScreeningPort, KYC changes, large transfers'
 * beneficiaries, agents and their owners, rescreening after a list change), its routes, jobs and subscriptions.
 */
import type { Executor } from '../../platform/db.ts';
import { on, type Subscription } from '../../platform/events.ts';
import type { ModuleContext, ModuleJob, ScheduledTask } from '../../platform/modules.ts';
import { agentsModule } from '../agents/index.ts';
import { customersModule } from '../customers/index.ts';
import { kycDecided } from '../kyc/index.ts';
import { onboardingModule, registrationActivated } from '../onboarding/index.ts';
import { settingsModule } from '../settings/index.ts';
import { transactionCompleted } from '../transactions/index.ts';
import { type ListsConfigValues, listsConfig } from './aml.lists.config.ts';
import { ListLoader } from './aml.lists.ts';
import { watchLists } from './aml.lists.watch.ts';
import type { AlertSink, Screener } from './aml.ports.ts';
import { AmlScreener } from './aml.screener.ts';
import { amlListLoaded } from './aml.screening.events.ts';
import {
  RESCREEN_JOB,
  type RescreenJob,
  SCREEN_SUBJECT_JOB,
  ScreeningPoints,
  type SubjectJob,
} from './aml.screening.points.ts';
import { listUploadRoutes, screeningRoutes } from './aml.screening.routes.ts';

export { listsConfig as screeningConfig };

export interface ScreeningArea {
  /** Loads list files as versions (the routes, the CLI, the watcher). */
  lists: ListLoader;
  /** The Screener port (risk, realtime and cases read `isPep`; the screening points call `screen`). */
  screener: Screener;
  points: ScreeningPoints;
  config: ListsConfigValues;
  db: Executor;
}

export function buildScreening(ctx: ModuleContext, ports: { alerts: AlertSink }): ScreeningArea {
  const db = ctx.deps.database.db;
  const config = ctx.config as unknown as ListsConfigValues;
  const settings = ctx.use(settingsModule);
  const screener = new AmlScreener(ctx.deps, { alerts: ports.alerts, settings });
  const points = new ScreeningPoints({
    db,
    jobs: ctx.deps.jobs,
    screener,
    customers: ctx.use(customersModule).customers,
    settings,
    agents: ctx.use(agentsModule).network,
    rescreenBatch: config.AML_LISTS_RESCREEN_BATCH,
  });
  // Onboarding screens every registration's applicant through AML from now on (a hit holds it for review).
  ctx.use(onboardingModule).useScreening(points.onboardingPort());
  return { lists: new ListLoader(db), screener, points, config, db };
}

export function screeningAreaRoutes(api: { screening: ScreeningArea }) {
  return [
    listUploadRoutes(api.screening.lists),
    screeningRoutes(api.screening.lists, api.screening.screener, api.screening.db),
  ];
}

export function screeningJobs(area: ScreeningArea): ModuleJob[] {
  const watch: ScheduledTask = {
    name: 'aml.lists-watch',
    schedule: '17 * * * *',
    run: () => watchLists(area.lists, area.config),
  };
  const agents: ScheduledTask = {
    name: 'aml.screening-agents',
    schedule: '*/15 * * * *',
    run: () => area.points.screenNewAgents(),
  };
  return [
    {
      name: SCREEN_SUBJECT_JOB,
      retryLimit: 8,
      handle: async (data: object) => {
        await area.points.screenSubject(data as SubjectJob);
      },
    },
    {
      name: RESCREEN_JOB,
      retryLimit: 8,
      expireInSeconds: 1800,
      batchSize: 1,
      handle: (data: object) => area.points.runRescreen(data as RescreenJob),
    },
    watch,
    agents,
  ];
}

export function screeningSubscriptions(area: ScreeningArea): Subscription[] {
  return [
    on(amlListLoaded, (tx, event) => area.points.onListLoaded(tx, event.payload)),
    on(kycDecided, (tx, event) => area.points.onKycDecided(tx, event.payload)),
    on(registrationActivated, (tx, event) => area.points.onActivated(tx, event.payload)),
    on(transactionCompleted, (tx, event) => area.points.onTransferCompleted(tx, event.payload)),
  ];
}
