/** Maker-checker: configurable actions held for a second staff member's approval. */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { SettingsService } from '../settings/index.ts';
import { approvalRoutes } from './approvals.routes.ts';
import { ApprovalService } from './approvals.service.ts';

export { ApprovalView as ApprovalViewSchema } from './approvals.schemas.ts';
export {
  type ApprovalAction,
  ApprovalService,
  type ApprovalView,
  expireStaleApprovals,
  type Outcome,
} from './approvals.service.ts';

export function createApprovals(deps: Dependencies, settings: SettingsService): ApprovalService {
  const approvals = new ApprovalService(deps.database.db, settings);
  settings.addCheck('approvals.required_actions', (value) => {
    const unknown = approvals.unknownActions(value as string[]);
    return unknown.length > 0 ? `unknown actions: ${unknown.join(', ')}` : null;
  });
  return approvals;
}

export function approvalsModule(approvals: ApprovalService, settings: SettingsService): FastifyPluginAsync {
  return async (app) => {
    await app.register(approvalRoutes(approvals, settings));
  };
}
