/** Generates the OpenAPI document from the code (embedded in-memory database, nothing listens). */
import { buildApp } from './app.ts';
import { parseConfig } from './config.ts';
import { closeDependencies, openDependencies } from './platform/dependencies.ts';

export const OPENAPI_PATH = 'openapi/openapi.json';

export async function generateOpenApiDocument(): Promise<string> {
  const config = parseConfig({ DATA_DIR: ':memory:', LOG_LEVEL: 'silent' });
  const deps = await openDependencies(config, { migrate: true, runsWorker: false });
  try {
    const { app } = await buildApp(deps);
    await app.ready();
    const document = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    await app.close();
    return document;
  } finally {
    await closeDependencies(deps);
  }
}
