/** Every background job of the application, defined once for the API (enqueue) and the worker (consume). */
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
}
