/** The background worker: consumes every job queue and runs schedules. Scale it separately from the API. */
import { ConfigError, environmentWithDotenv, parseConfig } from './config.ts';
import { defineJobs } from './jobs.ts';
import { closeDependencies, openDependencies } from './platform/dependencies.ts';

async function main() {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(environmentWithDotenv());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (!config.DATABASE_URL) {
    process.stderr.write(
      'The worker runs beside PostgreSQL; on the embedded database the API runs it in-process.\n',
    );
    process.exit(1);
  }
  const deps = await openDependencies(config, { migrate: false, runsWorker: true });
  const background = await defineJobs(deps);
  await deps.jobs.start();
  await deps.jobs.work();
  background.start();
  process.stdout.write(`worker consuming: ${deps.jobs.names.join(', ')}\n`);
  const shutdown = async () => {
    await background.stop();
    await background.system.close();
    await closeDependencies(deps);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

main().catch((error) => {
  process.stderr.write(
    `Worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
