/** Every background job of the application, defined once for the API (enqueue) and the worker (consume). */
import { expireStaleApprovals } from './modules/approvals/index.ts';
import { expireKycTiers } from './modules/customers/index.ts';
import { expireDocuments } from './modules/documents/index.ts';
import { purgeExpiredRefreshTokens } from './modules/identity/index.ts';
import type { Dependencies } from './platform/dependencies.ts';
import { IdempotencyService } from './platform/idempotency.ts';

export function defineJobs(deps: Dependencies): void {
  const idempotency = new IdempotencyService(deps.database.db, deps.config.IDEMPOTENCY_TTL_HOURS);
  deps.jobs.define({
    name: 'maintenance.purge-idempotency-keys',
    schedule: '17 * * * *',
    retryLimit: 2,
    handle: async () => {
      await idempotency.purgeExpired();
    },
  });
  deps.jobs.define({
    name: 'maintenance.expire-approval-requests',
    schedule: '*/15 * * * *',
    retryLimit: 2,
    handle: async () => {
      await expireStaleApprovals(deps.database.db);
    },
  });
  deps.jobs.define({
    name: 'documents.expire',
    schedule: '55 0 * * *',
    retryLimit: 3,
    handle: async () => {
      await expireDocuments(deps.database.db);
    },
  });
  deps.jobs.define({
    name: 'kyc.expire-tiers',
    schedule: '5 1 * * *',
    retryLimit: 3,
    handle: async () => {
      await expireKycTiers(deps.database.db);
    },
  });
  deps.jobs.define({
    name: 'maintenance.purge-expired-sessions',
    schedule: '41 3 * * *',
    retryLimit: 2,
    handle: async () => {
      await purgeExpiredRefreshTokens(deps.database.db);
    },
  });
}
