/**
 * How the cases area plugs into the AML module (index.ts): the AlertSink every other area raises through, the case
 * work and decisions, their routes, the SLA job and the `aml.unfreeze_customer` maker-checker action. It is built
 * after the reports area (its ReportWriter) and before the risk area: the risk area's RiskReader is connected
 * afterwards with `cases.decisions.connect({ risk })`.
 */
import type { ModuleContext, ScheduledTask } from '../../platform/modules.ts';
import { approvalAction } from '../../platform/modules.ts';
import { approvalsModule } from '../approvals/index.ts';
import { documentsModule } from '../documents/index.ts';
import { userAccess } from '../identity/index.ts';
import { settingsModule } from '../settings/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { CaseAlertSink } from './aml.alerts.ts';
import {
  CaseDecisions,
  type DecisionPorts,
  UNFREEZE_ACTION,
  type UnfreezePayload,
} from './aml.cases.decide.ts';
import { caseRoutes } from './aml.cases.routes.ts';
import { sweepCaseSla } from './aml.cases.sla.ts';
import { CaseWork } from './aml.cases.ts';

export interface CasesArea {
  /** The AlertSink (aml.ports.ts) the other areas raise alerts through. */
  alerts: CaseAlertSink;
  /** The queue and the analysts' actions. */
  work: CaseWork;
  /** Decisions, restriction and its lifting; `connect` takes ports built later (the risk area's RiskReader). */
  decisions: CaseDecisions;
}

export function buildCases(ctx: ModuleContext, ports: DecisionPorts): CasesArea {
  const db = ctx.deps.database.db;
  const settings = ctx.use(settingsModule);
  const documents = ctx.use(documentsModule);
  return {
    alerts: new CaseAlertSink({ settings }),
    work: new CaseWork({
      db,
      documents,
      mayInvestigate: async (userId) => {
        const access = await userAccess(db, userId);
        return access?.status === 'active' && access.permissions.includes('aml:investigate');
      },
    }),
    decisions: new CaseDecisions(
      { db, settings, wallets: ctx.use(walletsModule), approvals: ctx.use(approvalsModule) },
      ports,
    ),
  };
}

export function casesRoutes(api: { cases: CasesArea }) {
  return [caseRoutes(api.cases.work, api.cases.decisions)];
}

/** Every 5 minutes: open cases past their due time are marked breached (aml.cases.sla.ts). */
export function casesJobs(): ScheduledTask[] {
  return [{ name: 'aml.case-sla', schedule: '*/5 * * * *', run: (db) => sweepCaseSla(db) }];
}

/** `aml.unfreeze_customer`: lifting a restriction always needs a second staff member who may decide cases. */
export function casesApprovalActions(cases: CasesArea) {
  return [
    approvalAction<UnfreezePayload>({
      name: UNFREEZE_ACTION,
      description: 'Unfreeze the wallets an AML case restricted',
      permission: 'aml:decide',
      always: true,
      dedupeKey: (payload) => payload.case_id,
      execute: (payload, context) => cases.decisions.executeUnfreeze(payload, context),
    }),
  ];
}
