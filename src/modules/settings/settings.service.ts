/**
 * Runtime settings stored in `app_settings` over their defaults. Reads are cached per process for a few seconds
 * and invalidated on every node through the ephemeral store's pub/sub when one changes.
 */
import type { Static, TSchema } from 'typebox';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import type { EphemeralStore } from '../../platform/cache.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { bodyAjv } from '../../platform/validation.ts';
import { isSettingKey, type SettingKey, settingDefinitions } from './settings.definitions.ts';
import { settingErrorCatalogue } from './settings.errors.ts';
import {
  deleteStoredSetting,
  lockStoredSetting,
  storedSettings,
  writeStoredSetting,
} from './settings.repository.ts';

const CACHE_MS = 5000;
const CHANNEL = 'settings:changed';

type SettingValue<K extends SettingKey> = Static<(typeof settingDefinitions)[K]['schema']>;

interface Stored {
  value: unknown;
  version: number;
  updatedBy: string | null;
  updatedAt: Date;
}

const validators = new Map(
  Object.entries(settingDefinitions).map(([key, definition]) => [
    key,
    bodyAjv.compile(definition.schema as TSchema),
  ]),
);

export class SettingsService {
  readonly #db: Executor;
  readonly #store: EphemeralStore;
  #cache: { at: number; rows: Map<string, Stored> } | null = null;
  #unsubscribe: (() => Promise<void>) | null = null;

  constructor(db: Executor, store: EphemeralStore) {
    this.#db = db;
    this.#store = store;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#store.subscribe(CHANNEL, () => {
      this.#cache = null;
    });
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
  }

  async #rows(): Promise<Map<string, Stored>> {
    if (this.#cache && Date.now() - this.#cache.at < CACHE_MS) return this.#cache.rows;
    const rows = await storedSettings(this.#db);
    const map = new Map<string, Stored>();
    for (const row of rows) {
      map.set(row.key, {
        value: row.value,
        version: row.version,
        updatedBy: row.updatedBy,
        updatedAt: row.updatedAt,
      });
    }
    this.#cache = { at: Date.now(), rows: map };
    return map;
  }

  async get<K extends SettingKey>(key: K): Promise<SettingValue<K>> {
    const stored = (await this.#rows()).get(key);
    return (stored ? stored.value : settingDefinitions[key].default) as SettingValue<K>;
  }

  #view(key: SettingKey, stored: Stored | undefined) {
    const definition = settingDefinitions[key];
    return {
      key,
      description: definition.description,
      value: stored ? stored.value : definition.default,
      default: definition.default as unknown,
      schema: JSON.parse(JSON.stringify(definition.schema)) as Record<string, unknown>,
      public: definition.public,
      overridden: stored !== undefined,
      version: stored?.version ?? 0,
      updated_by: stored?.updatedBy ?? null,
      updated_at: stored?.updatedAt.toISOString() ?? null,
    };
  }

  async list() {
    const rows = await this.#rows();
    return (Object.keys(settingDefinitions) as SettingKey[]).map((key) => this.#view(key, rows.get(key)));
  }

  async describe(key: string) {
    if (!isSettingKey(key)) throw commonErrors.notFound('Setting');
    this.#cache = null;
    return this.#view(key, (await this.#rows()).get(key));
  }

  async publicValues(): Promise<Record<string, unknown>> {
    const rows = await this.#rows();
    const values: Record<string, unknown> = {};
    for (const [key, definition] of Object.entries(settingDefinitions)) {
      if (definition.public) values[key] = rows.get(key)?.value ?? definition.default;
    }
    return values;
  }

  /** Sets a value after validating it; `expectedVersion` (optimistic concurrency) refuses lost updates with 409. */
  readonly #checks = new Map<string, (value: unknown) => string | null>();

  /** Another module adds a rule a value must also meet (e.g. names it knows); the check returns a problem or null. */
  addCheck(key: SettingKey, check: (value: unknown) => string | null): void {
    this.#checks.set(key, check);
  }

  async update(key: string, value: unknown, expectedVersion: number | undefined, context: RequestContext) {
    if (!isSettingKey(key)) throw commonErrors.notFound('Setting');
    const problem = validators.get(key)!(value) ? (this.#checks.get(key)?.(value) ?? null) : null;
    if (problem) {
      throw commonErrors.validation(`Invalid value for ${key}`, {
        errors: [{ field: 'body.value', message: problem, rule: 'check' }],
      });
    }
    const validate = validators.get(key)!;
    if (!validate(value)) {
      throw commonErrors.validation(`Invalid value for ${key}`, {
        errors: (validate.errors ?? []).map((issue) => ({
          field: `body.value${issue.instancePath.replaceAll('/', '.')}`,
          message: issue.message ?? 'is invalid',
          rule: issue.keyword,
        })),
      });
    }
    await inTransaction(this.#db, async (tx) => {
      const current = await lockStoredSetting(tx, key);
      const currentVersion = current?.version ?? 0;
      if (expectedVersion !== undefined && expectedVersion !== currentVersion) {
        throw settingErrorCatalogue.VERSION_CONFLICT({
          details: { expected_version: expectedVersion, current_version: currentVersion },
        });
      }
      const before = current ? current.value : settingDefinitions[key].default;
      const updatedBy = context.actor.id;
      await writeStoredSetting(tx, key, value, current, updatedBy);
      await writeAudit(tx, context, {
        action: 'setting.updated',
        entityType: 'setting',
        entityId: key,
        before,
        after: value,
      });
    });
    await this.#changed();
    return this.describe(key);
  }

  async reset(key: string, context: RequestContext) {
    if (!isSettingKey(key)) throw commonErrors.notFound('Setting');
    await inTransaction(this.#db, async (tx) => {
      const current = await deleteStoredSetting(tx, key);
      if (current) {
        await writeAudit(tx, context, {
          action: 'setting.reset',
          entityType: 'setting',
          entityId: key,
          before: current.value,
          after: settingDefinitions[key].default,
        });
      }
    });
    await this.#changed();
    return this.describe(key);
  }

  async #changed() {
    this.#cache = null;
    await this.#store.publish(CHANNEL, '1').catch(() => {});
  }
}
