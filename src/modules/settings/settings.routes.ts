/** `/api/v1/admin/config` (staff) and `/api/v1/app` (public client configuration). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../platform/http.ts';
import { featureMounted } from './settings.features.ts';
import type { SettingsService } from './settings.service.ts';

const SettingView = Type.Object({
  key: Type.String(),
  description: Type.String(),
  value: Type.Unknown(),
  default: Type.Unknown(),
  schema: Type.Object({}, { additionalProperties: true, description: 'JSON schema the value must satisfy' }),
  public: Type.Boolean(),
  overridden: Type.Boolean(),
  version: Type.Integer({ description: 'Pass as `version` when updating to refuse lost updates' }),
  updated_by: Type.Union([Type.String(), Type.Null()]),
  updated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const KeyParams = Type.Object({ key: Type.String({ maxLength: 100, pattern: '^[a-z0-9_.]+$' }) });
const UpdateBody = Type.Object({
  value: Type.Unknown({ description: 'New value, checked against the setting’s schema' }),
  version: Type.Optional(Type.Integer({ minimum: 0 })),
});

const AppConfig = Type.Object({
  api_version: Type.String(),
  maintenance_mode: Type.Boolean(),
  min_app_versions: Type.Object({ android: Type.String(), ios: Type.String() }),
  supported_languages: Type.Array(Type.String()),
  supported_channels: Type.Array(Type.String()),
  support_contact: Type.String(),
  features: Type.Record(Type.String(), Type.Boolean()),
});

export function settingsRoutes(settings: SettingsService, apiVersion: string): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/admin/config',
      {
        config: { access: { permission: 'admin:config_read' } },
        schema: {
          operationId: 'listSettings',
          tags: ['admin'],
          summary: 'Runtime settings with their types, defaults and current values',
          response: { 200: Type.Object({ items: Type.Array(SettingView) }) },
        },
      },
      async () => ({ items: await settings.list() }),
    );

    app.get(
      '/api/v1/admin/config/:key',
      {
        config: { access: { permission: 'admin:config_read' } },
        schema: {
          operationId: 'getSetting',
          tags: ['admin'],
          summary: 'One runtime setting',
          params: KeyParams,
          response: { 200: SettingView },
        },
      },
      async (request) => settings.describe(request.params.key),
    );

    app.patch(
      '/api/v1/admin/config/:key',
      {
        config: { access: { permission: 'admin:config_update' } },
        schema: {
          operationId: 'updateSetting',
          tags: ['admin'],
          summary: 'Change a runtime setting (validated, versioned, audited)',
          params: KeyParams,
          body: UpdateBody,
          response: { 200: SettingView },
        },
      },
      async (request) =>
        settings.update(request.params.key, request.body.value, request.body.version, contextOf(request)),
    );

    app.delete(
      '/api/v1/admin/config/:key',
      {
        config: { access: { permission: 'admin:config_update' } },
        schema: {
          operationId: 'resetSetting',
          tags: ['admin'],
          summary: 'Return a runtime setting to its default',
          params: KeyParams,
          response: { 200: SettingView },
        },
      },
      async (request) => settings.reset(request.params.key, contextOf(request)),
    );

    app.get(
      '/api/v1/app/config',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'getAppConfig',
          tags: ['app'],
          summary: 'Public client configuration: feature flags, minimum app versions, channels, languages',
          description:
            'A feature is `true` only when its setting is on and the routes that serve it are mounted: `loans` and ' +
            '`self_registration` stay `false` until their modules exist.',
          response: { 200: AppConfig },
        },
      },
      async (_request, reply) => {
        const values = await settings.publicValues();
        const features: Record<string, boolean> = {};
        for (const [key, value] of Object.entries(values)) {
          if (!key.startsWith('features.')) continue;
          const name = key.slice('features.'.length);
          // On only when switched on and served: a flag for a module that is not mounted is never advertised.
          features[name] = value === true && featureMounted((route) => app.hasRoute(route), name);
        }
        reply.header('cache-control', 'public, max-age=60');
        return {
          api_version: apiVersion,
          maintenance_mode: values['app.maintenance_mode'] === true,
          min_app_versions: {
            android: String(values['app.min_version_android']),
            ios: String(values['app.min_version_ios']),
          },
          supported_languages: values['app.supported_languages'] as string[],
          supported_channels: values['app.supported_channels'] as string[],
          support_contact: String(values['app.support_contact']),
          features,
        };
      },
    );
  };
}
