/** Runtime settings (`/api/v1/admin/config`) and public client configuration (`/api/v1/app`). */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { settingsRoutes } from './settings.routes.ts';
import { SettingsService } from './settings.service.ts';

export { type SettingKey, settingDefinitions } from './settings.definitions.ts';
export { SettingsService } from './settings.service.ts';

export async function createSettings(deps: Dependencies): Promise<SettingsService> {
  const settings = new SettingsService(deps.database.db, deps.store);
  await settings.start();
  return settings;
}

export function settingsModule(settings: SettingsService, apiVersion: string): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onClose', async () => settings.stop());
    await app.register(settingsRoutes(settings, apiVersion));
  };
}
