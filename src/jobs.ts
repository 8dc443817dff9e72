/**
 * Every background job of the application, defined once for the API (enqueue) and the worker (consume): the
 * platform's housekeeping and each module's `jobs`, plus the modules' `background` loops (started only where the
 * worker runs).
 */
import { composeSystem } from './modules.ts';
import type { Executor } from './platform/db.ts';
import type { Dependencies } from './platform/dependencies.ts';
import { IdempotencyService } from './platform/idempotency.ts';
import type { JobDefinition } from './platform/jobs.ts';
import type { BackgroundLoop, ModuleSystem, ScheduledTask } from './platform/modules.ts';
import { purgeDispatchedEvents } from './platform/outbox.ts';

/** The platform's own housekeeping (UTC cron); each is idempotent, so a retry is harmless. */
function platformTasks(deps: Dependencies): ScheduledTask[] {
  const idempotency = new IdempotencyService(deps.database.db, deps.config.IDEMPOTENCY_TTL_HOURS);
  return [
    {
      name: 'maintenance.purge-idempotency-keys',
      schedule: '17 * * * *',
      run: () => idempotency.purgeExpired(),
    },
    {
      name: 'maintenance.purge-dispatched-events',
      schedule: '23 * * * *',
      run: (db: Executor) => purgeDispatchedEvents(db, deps.config.OUTBOX_RETENTION_DAYS),
    },
  ];
}

export interface Background {
  /** The modules the jobs were defined with (pass to buildApp so the API shares them). */
  system: ModuleSystem;
  /** Starts the loops that are not queue jobs (event consumers); only in a process that runs the worker. */
  start(): void;
  stop(): Promise<void>;
}

function isScheduledTask(job: unknown): job is ScheduledTask {
  return typeof (job as ScheduledTask).run === 'function';
}

/** Defines every job of the platform and the modules on `deps.jobs`; call once per process, before `jobs.start()`. */
export async function defineJobs(deps: Dependencies, existing?: ModuleSystem): Promise<Background> {
  const system = existing ?? (await composeSystem(deps));
  const jobs = [
    ...platformTasks(deps),
    ...system.collect((m, api, ctx) => m.jobs?.(api, ctx)).flatMap((j) => j.value),
  ];
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`job ${job.name} is declared twice`);
    names.add(job.name);
  }
  for (const job of jobs) {
    // Defined already on these dependencies (the API built on the jobs' own system): nothing to add.
    if (deps.jobs.names.includes(job.name)) continue;
    if (isScheduledTask(job)) {
      deps.jobs.define({
        name: job.name,
        schedule: job.schedule,
        retryLimit: 3,
        handle: async () => {
          await job.run(deps.database.db);
        },
      });
    } else {
      deps.jobs.define(job as JobDefinition<object>);
    }
  }
  // The event bus (every module's consumer), then the modules' own loops.
  const loops: BackgroundLoop[] = [
    system.events,
    ...system.collect((m, api, ctx) => m.background?.(api, ctx)).flatMap((found) => [...found.value]),
  ];
  return {
    system,
    start: () => {
      for (const loop of loops) loop.start();
    },
    stop: async () => {
      for (const loop of loops) await loop.stop();
    },
  };
}
