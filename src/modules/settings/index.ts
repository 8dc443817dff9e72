/** Runtime settings (`/api/v1/admin/config`) and public client configuration (`/api/v1/app`). */
import { API_VERSION } from '../../platform/api-contract.ts';
import { defineModule } from '../../platform/modules.ts';
import { settingErrorCatalogue } from './settings.errors.ts';
import { settingsRoutes } from './settings.routes.ts';
import { SettingsService } from './settings.service.ts';
import { appSettings } from './settings.tables.ts';

export { type SettingKey, settingDefinitions } from './settings.definitions.ts';
export { SettingsService } from './settings.service.ts';

export const settingsModule = defineModule({
  name: 'settings',
  description:
    'Runtime settings (`/api/v1/admin/config`) and the public client configuration (`/api/v1/app`)',
  dependsOn: [],
  errors: settingErrorCatalogue,
  tables: { appSettings },
  permissions: [
    { code: 'admin:config_read', description: 'Read runtime settings' },
    { code: 'admin:config_update', description: 'Change runtime settings' },
  ],
  async create({ deps }) {
    const settings = new SettingsService(deps.database.db, deps.store);
    await settings.start();
    return settings;
  },
  routes: (settings) => settingsRoutes(settings, API_VERSION),
  close: (settings) => settings.stop(),
});
