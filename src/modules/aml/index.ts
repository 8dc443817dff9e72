/**
 * AML: real-time transaction monitoring (rules as data deciding allow, review or block before a payment posts),
 * post-posting typologies, sanctions and PEP screening, customer risk rating, alerts grouped into cases, and goAML
 * STR/CTR reports. Nothing of it is visible to customers or to staff without `aml:*` permissions (tipping-off).
 * Other modules reach it only through this file. The areas meet through aml.ports.ts; each wires itself below
 * between its `area:` markers, in this order: reports → cases → risk → screening → realtime → scenarios.
 */
import { defineModule } from '../../platform/modules.ts';
import {
  buildCases,
  type CasesArea,
  casesApprovalActions,
  casesJobs,
  casesRoutes,
} from './aml.cases.wiring.ts';
import { demoAreaRoutes } from './aml.demo.routes.ts';
import { amlErrors } from './aml.errors.ts';
import { amlTopics } from './aml.events.ts';
import {
  buildRealtime,
  type Realtime,
  realtimeJobs,
  realtimeRoutes,
  realtimeSubscriptions,
  seedRealtime,
} from './aml.realtime.wiring.ts';
import type { ReportsService } from './aml.reports.ts';
import { buildReports, reportsConfig, reportsRoutes, reportsSubscriptions } from './aml.reports.wiring.ts';
import type { RiskService } from './aml.risk.ts';
import { buildRisk, riskAreaRoutes, riskJobs, riskSubscriptions } from './aml.risk.wiring.ts';
import {
  buildScenarios,
  oneHandlerPerTopic,
  type ScenariosArea,
  scenariosHealth,
  scenariosJobs,
  scenariosSubscriptions,
  scenariosTables,
  seedScenarios,
} from './aml.scenarios.wiring.ts';
import {
  buildScreening,
  type ScreeningArea,
  screeningAreaRoutes,
  screeningConfig,
  screeningJobs,
  screeningSubscriptions,
} from './aml.screening.wiring.ts';
import { simSwapConfig } from './aml.simswap.ts';
import * as tables from './aml.tables.ts';

// area: realtime (exports: the CLI rebuilds the real-time aggregates from aml_payment_facts, all or one customer)
export { rebuildAggregates as rebuildAmlAggregates } from './aml.aggregates.rebuild.ts';
// area: demo (exports: the CLI's aml-demo drives the dataset through the running API's routes)
export { DemoClient as AmlDemoClient, fetchTransport as amlDemoFetchTransport } from './aml.demo.http.ts';
export { formatTally as formatAmlDemoTally } from './aml.demo.tally.ts';
export { runAmlDemo } from './aml.demo.ts';
// area: screening (exports: the CLI loads list files through the same loader as the route)
export { ListLoader as AmlListLoader } from './aml.lists.ts';
export { fileAt as amlListFile } from './aml.lists.watch.ts';
export { LIST_SOURCES as AML_LIST_SOURCES } from './aml.tables.ts';

/** What other modules and the routes reach. Each area adds its fields. */
export interface AmlApi {
  /** Always present: the module's own name (keeps the interface non-empty while areas arrive). */
  readonly module: 'aml';
  // area: reports (api)
  /** goAML STR and CTR reports; the ReportWriter the cases area files STRs through. */
  reports: ReportsService;
  // area: cases (api)
  /** The AlertSink (`cases.alerts`), the case queue and actions (`work`), decisions and restriction. */
  cases: CasesArea;
  // area: risk (api)
  /** Customer risk rating: the RiskReader (`ratingOf`, `recompute`) the realtime and cases areas read. */
  risk: RiskService;
  // area: screening (api)
  /** Lists (versions, loading), the Screener port, the screening points (onboarding's port, events, rescreening). */
  screening: ScreeningArea;
  // area: realtime (api)
  /** Rules as data, aggregates, the payment screen (set on the payment engine) and held payments. */
  realtime: Realtime;
  // area: scenarios (api)
  /** AML's payment facts (`facts`, which other areas may listen on) and the post-posting typologies. */
  scenarios: ScenariosArea;
}

export const amlModule = defineModule({
  name: 'aml',
  description:
    'AML: real-time payment decisions, typologies, sanctions/PEP screening, risk rating, cases and goAML reports',
  dependsOn: [
    'settings',
    'identity',
    'access',
    'customers',
    'kyc',
    'documents',
    'notifications',
    'wallets',
    'ledger',
    'approvals',
    'transactions',
    'onboarding',
    'agents',
  ],
  // area: config (one spread per area)
  config: { ...reportsConfig, ...screeningConfig, ...simSwapConfig },
  errors: amlErrors,
  tables: {
    amlRules: tables.amlRules,
    amlDecisions: tables.amlDecisions,
    amlPaymentFacts: tables.amlPaymentFacts,
    amlLists: tables.amlLists,
    amlListEntries: tables.amlListEntries,
    amlScreenings: tables.amlScreenings,
    amlRiskRatings: tables.amlRiskRatings,
    amlRiskHistory: tables.amlRiskHistory,
    amlAlerts: tables.amlAlerts,
    amlCases: tables.amlCases,
    amlCaseEvents: tables.amlCaseEvents,
    amlReports: tables.amlReports,
    // area: tables (an area's own extra tables)
    ...scenariosTables,
  },
  permissions: [
    // Tipping-off: nothing of AML is readable without one of these (never granted to customers or operators).
    {
      code: 'aml:read',
      description: 'Read AML alerts, cases, decisions, screenings, risk ratings and reports',
    },
    {
      code: 'aml:investigate',
      description: 'Work AML cases: claim, assign, notes, attachments, snooze, escalate',
    },
    {
      code: 'aml:decide',
      description: 'Decide AML cases and held payments (release, reject, restrict, file STR)',
    },
    { code: 'aml:rules', description: 'Create and change AML rules and their versions and modes' },
    { code: 'aml:lists', description: 'Load sanctions and PEP lists and run rescreening' },
    { code: 'aml:reports', description: 'Generate and download goAML STR and CTR reports' },
    // area: permissions
  ],
  publishes: amlTopics,
  create: (ctx): AmlApi => {
    // area: reports (create)
    const reports = buildReports(ctx);
    // area: cases (create)
    const cases = buildCases(ctx, { reports, risk: null });
    const alerts = cases.alerts;
    // area: risk (create)
    const { risk } = buildRisk(ctx, { alerts });
    cases.decisions.connect({ risk });
    // area: screening (create)
    const screening = buildScreening(ctx, { alerts });
    // area: realtime (create)
    const realtime = buildRealtime(ctx, { alerts, risk });
    // area: scenarios (create)
    const scenarios = buildScenarios(ctx, { alerts });
    return {
      module: 'aml',
      // area: api (values)
      screening,
      scenarios,
      realtime,
      risk,
      cases,
      reports,
    };
  },
  routes: (api, _ctx) => [
    // area: routes (one plugin per area)
    ...screeningAreaRoutes(api),
    ...realtimeRoutes(api.realtime),
    riskAreaRoutes(api),
    ...casesRoutes(api),
    reportsRoutes(api),
    // area: demo (development only: not mounted with PRODUCTION=true)
    ...demoAreaRoutes(_ctx),
  ],
  // area: module fields (approvalActions, jobs, subscribes, health, seed)
  approvalActions: (api) => [...casesApprovalActions(api.cases)],
  jobs: (api) => [
    ...realtimeJobs(api.realtime),
    ...casesJobs(),
    ...riskJobs(api.risk),
    ...screeningJobs(api.screening),
    ...scenariosJobs(api.scenarios),
  ],
  health: (api) => ({ ...scenariosHealth(api.scenarios) }),
  // One handler per topic for the module's consumer: several areas handle transaction.completed.
  subscribes: (api) =>
    oneHandlerPerTopic([
      ...screeningSubscriptions(api.screening),
      ...scenariosSubscriptions(api.scenarios),
      ...realtimeSubscriptions(api.realtime),
      ...reportsSubscriptions(api),
      ...riskSubscriptions(api.risk),
    ]),
  seed: async (ctx) => {
    await seedRealtime(ctx);
    await seedScenarios(ctx);
  },
  close: async (api) => {
    await api.realtime.close();
  },
});
