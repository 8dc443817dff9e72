/**
 * Starts the API. On the embedded database (no DATABASE_URL) it also migrates, seeds and runs the worker in-process,
 * so `npm install && npm start` is a working system; the first administrator's password is printed once.
 */
import { buildApp } from './app.ts';
import { apiDocsMode, type Config, ConfigError, environmentWithDotenv, parseConfig } from './config.ts';
import { defineJobs } from './jobs.ts';
import { DataDirLockedError, lockDataDir } from './platform/data-dir-lock.ts';
import { runMigrations } from './platform/db.ts';
import { closeDependencies, openDependencies } from './platform/dependencies.ts';
import { seedAll, seedFirstAdmin } from './seed.ts';

function loadConfigOrExit(): Config {
  try {
    return parseConfig(environmentWithDotenv());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** The embedded data directory is this process's while it runs (the CLI refuses to open it meanwhile). */
function lockEmbeddedOrExit(config: Config): () => void {
  if (config.DATABASE_URL || config.DATA_DIR === ':memory:') return () => {};
  try {
    return lockDataDir(config.DATA_DIR, 'the API');
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main() {
  const config = loadConfigOrExit();
  const releaseDataDir = lockEmbeddedOrExit(config);
  const deps = await openDependencies(config, { migrate: false });
  if (config.AUTO_MIGRATE || deps.database.kind === 'pglite') {
    await runMigrations(deps.database);
    await seedAll(deps);
  }
  const background = await defineJobs(deps);
  const { app, identity } = await buildApp(deps, { system: background.system });
  const admin = await seedFirstAdmin(deps, identity);
  if (admin.created && admin.generatedPassword) {
    process.stdout.write(
      `\nFirst administrator created: username "admin", email ${admin.email}\n` +
        `Password (shown once; you must change it at first login): ${admin.generatedPassword}\n\n`,
    );
  }
  await deps.jobs.start();
  if (deps.runsWorker) {
    await deps.jobs.work();
    background.start();
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error('shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    await app.close();
    await background.stop();
    await background.system.close();
    await closeDependencies(deps);
    releaseDataDir();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const address = await app.listen({ host: config.LOCAL_HOST, port: config.LOCAL_PORT });
  app.log.info(
    { address, database: deps.database.kind, store: deps.store.kind, worker: deps.runsWorker },
    `API listening on ${address}${docsNote(apiDocsMode(config), address)}`,
  );
}

function docsNote(mode: 'public' | 'staff' | 'off', address: string): string {
  if (mode === 'off') return ' (API docs off: API_DOCS)';
  return ` (docs at ${address}/docs${mode === 'staff' ? ', staff token required' : ''})`;
}

main().catch((error) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
