/** Maker-checker: configurable actions held for a second staff member's approval. */
import { defineModule } from '../../platform/modules.ts';
import { settingsModule } from '../settings/index.ts';
import { approvalErrorCatalogue } from './approvals.errors.ts';
import { approvalRoutes } from './approvals.routes.ts';
import { ApprovalService, expireStaleApprovals } from './approvals.service.ts';
import { approvalRequests } from './approvals.tables.ts';

export { approvalErrorCatalogue } from './approvals.errors.ts';
export { ApprovalView as ApprovalViewSchema } from './approvals.schemas.ts';
export {
  type ApprovalAction,
  ApprovalService,
  type ApprovalView,
  expireStaleApprovals,
  type Outcome,
} from './approvals.service.ts';

export const approvalsModule = defineModule({
  name: 'approvals',
  description: "Maker-checker: actions other modules declare, held for a second staff member's approval",
  dependsOn: ['settings'],
  errors: approvalErrorCatalogue,
  tables: { approvalRequests },
  permissions: [
    { code: 'approval:read', description: 'See the pending-approvals queue' },
    { code: 'approval:decide', description: "Approve or reject another staff member's request" },
  ],
  create(ctx) {
    const settings = ctx.use(settingsModule);
    const approvals = new ApprovalService(ctx.deps.database.db, settings);
    settings.addCheck('approvals.required_actions', (value) => {
      const unknown = approvals.unknownActions(value as string[]);
      return unknown.length > 0 ? `unknown actions: ${unknown.join(', ')}` : null;
    });
    return approvals;
  },
  routes: (approvals, ctx) => approvalRoutes(approvals, ctx.use(settingsModule)),
  jobs: () => [
    { name: 'maintenance.expire-approval-requests', schedule: '*/15 * * * *', run: expireStaleApprovals },
  ],
});
