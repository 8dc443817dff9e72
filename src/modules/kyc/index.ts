/**
 * KYC: tiers Basic → Standard → Premium → Business with their requirements, balance caps, limits (in policy's
 * transaction-control table) and features per channel; applications to move a customer up a tier, decided by staff
 * under maker-checker; the daily lapse of tiers past their validity. The customer's current tier is a column of
 * customers, which this module changes through customers' commands.
 */
import { approvalAction, defineModule } from '../../platform/modules.ts';
import { approvalsModule } from '../approvals/index.ts';
import { policyModule } from '../policy/index.ts';
import { kycErrorCatalogue } from './kyc.errors.ts';
import { kycTopics } from './kyc.events.ts';
import { expireKycTiers, seedKycTiers } from './kyc.jobs.ts';
import { kycRoutes } from './kyc.routes.ts';
import { KycService } from './kyc.service.ts';
import { kycApplications, kycTiers } from './kyc.tables.ts';

export { kycErrorCatalogue } from './kyc.errors.ts';
export { kycDecided, kycTopics } from './kyc.events.ts';
export { expireKycTiers, seedKycTiers } from './kyc.jobs.ts';
export { KycService } from './kyc.service.ts';

export interface KycApi {
  kyc: KycService;
}

export const kycModule = defineModule({
  name: 'kyc',
  description:
    'KYC tiers (requirements, balance caps, features), upgrade applications under maker-checker, re-KYC',
  dependsOn: ['customers', 'documents', 'policy', 'approvals'],
  errors: kycErrorCatalogue,
  tables: { kycTiers, kycApplications },
  publishes: kycTopics,
  permissions: [
    { code: 'kyc:read', description: 'Read KYC status and history' },
    { code: 'kyc:submit', description: 'Submit KYC for a customer' },
    { code: 'kyc:review', description: 'Approve or reject KYC' },
  ],
  create: (ctx): KycApi => ({ kyc: new KycService(ctx.deps.database.db, ctx.use(policyModule)) }),
  routes: (api, ctx) => kycRoutes(api.kyc, ctx.use(approvalsModule)),
  approvalActions: (api) => [
    approvalAction<{ application_id: string; reason?: string }>({
      name: 'kyc.approve',
      description: 'Approve a KYC application (moves the customer to the tier)',
      permission: 'kyc:review',
      // One open approval per application.
      dedupeKey: (payload) => payload.application_id,
      // The checker who approves the request is the one recorded as deciding the application.
      execute: (payload, context) =>
        api.kyc.review(
          payload.application_id,
          'approve',
          payload.reason,
          { type: 'user', id: context.actor.id ?? '' },
          context,
        ),
    }),
  ],
  jobs: () => [{ name: 'kyc.expire-tiers', schedule: '5 1 * * *', run: expireKycTiers }],
  seed: ({ deps }) => seedKycTiers(deps.database.db),
});
