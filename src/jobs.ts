/** Every background job of the application, defined once for the API (enqueue) and the worker (consume). */
import { expireStaleApprovals } from './modules/approvals/index.ts';
import { expireKycTiers } from './modules/customers/index.ts';
import { expireDocuments } from './modules/documents/index.ts';
import { purgeExpiredRefreshTokens } from './modules/identity/index.ts';
import { LedgerService } from './modules/ledger/index.ts';
import {
  createNotificationsRuntime,
  defineNotificationJobs,
  type NotificationsRuntime,
  purgeOldNotifications,
} from './modules/notifications/index.ts';
import type { Executor } from './platform/db.ts';
import type { Dependencies } from './platform/dependencies.ts';
import { IdempotencyService } from './platform/idempotency.ts';
import { purgeDispatchedEvents } from './platform/outbox.ts';
import { RealtimeHub } from './platform/realtime.ts';

/** Housekeeping run by the worker on a cron schedule (UTC); each is idempotent, so a retry is harmless. */
function scheduledTasks(
  deps: Dependencies,
): { name: string; schedule: string; run: (db: Executor) => Promise<unknown> }[] {
  const idempotency = new IdempotencyService(deps.database.db, deps.config.IDEMPOTENCY_TTL_HOURS);
  const ledger = new LedgerService(deps.database.db);
  return [
    // Hot house accounts take deltas instead of row updates; balances read them too, so this only keeps them short.
    { name: 'ledger.roll-up', schedule: '* * * * *', run: () => ledger.rollUp() },
    { name: 'ledger.void-expired-holds', schedule: '*/5 * * * *', run: () => ledger.voidExpired() },
    {
      name: 'maintenance.purge-idempotency-keys',
      schedule: '17 * * * *',
      run: () => idempotency.purgeExpired(),
    },
    {
      name: 'maintenance.purge-dispatched-events',
      schedule: '23 * * * *',
      run: (db) => purgeDispatchedEvents(db, deps.config.OUTBOX_RETENTION_DAYS),
    },
    {
      name: 'maintenance.purge-old-notifications',
      schedule: '37 2 * * *',
      run: (db) => purgeOldNotifications(db, deps.config.NOTIFICATION_RETENTION_DAYS),
    },
    { name: 'maintenance.expire-approval-requests', schedule: '*/15 * * * *', run: expireStaleApprovals },
    { name: 'documents.expire', schedule: '55 0 * * *', run: expireDocuments },
    { name: 'kyc.expire-tiers', schedule: '5 1 * * *', run: expireKycTiers },
    { name: 'maintenance.purge-expired-sessions', schedule: '41 3 * * *', run: purgeExpiredRefreshTokens },
  ];
}

export interface Background {
  notifications: NotificationsRuntime;
  /** Starts the loops that are not queue jobs (the outbox dispatcher); only in a process that runs the worker. */
  start(): void;
  stop(): Promise<void>;
}

export function defineJobs(deps: Dependencies): Background {
  for (const task of scheduledTasks(deps)) {
    deps.jobs.define({
      name: task.name,
      schedule: task.schedule,
      retryLimit: 3,
      handle: async () => {
        await task.run(deps.database.db);
      },
    });
  }
  const notifications = createNotificationsRuntime(deps, { realtime: new RealtimeHub(deps.store) });
  defineNotificationJobs(deps, notifications);
  return {
    notifications,
    start: () => notifications.dispatcher.start(),
    stop: () => notifications.dispatcher.stop(),
  };
}
