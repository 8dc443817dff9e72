/**
 * Builds the Didit area (identity path B) for index.ts: its variables, tables, routes (the identity step and the
 * callback; the webhook in its own plugin, whose body stays text), the polling job and the readiness check.
 */

import type { Dependencies } from '../../platform/dependencies.ts';
import type { HealthCheck, ModuleJob } from '../../platform/modules.ts';
import { type DiditConfigValues, diditConfig } from './onboarding.didit.config.ts';
import { diditRoutes, diditWebhookRoutes } from './onboarding.didit.routes.ts';
import { diditSessions, diditWebhookReceipts } from './onboarding.didit.tables.ts';
import { DiditArea } from './onboarding.didit.ts';
import type { Journey } from './onboarding.journey.ts';

export { DiditArea } from './onboarding.didit.ts';
export { diditConfig };
export const diditTables = { diditSessions, diditWebhookReceipts };

export function buildDidit(deps: Dependencies, journey: Journey, config: DiditConfigValues): DiditArea {
  return new DiditArea(deps, journey, config);
}

export function diditAreaRoutes(didit: DiditArea) {
  return [diditRoutes(didit), diditWebhookRoutes(didit)];
}

/** Every minute: the open sessions whose poll time has come (the backoff is per session). */
export function diditJobs(didit: DiditArea): ModuleJob[] {
  return [{ name: 'onboarding.didit-poll', schedule: '* * * * *', run: () => didit.pollDue() }];
}

/** Didit answering HTTP; not critical (the CBS path and every other step work without it). */
export function diditHealth(didit: DiditArea): Record<string, HealthCheck> {
  return { 'onboarding.didit': { probe: () => didit.ping(), critical: false } };
}
