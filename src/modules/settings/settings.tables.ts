/** Tables owned by the settings module: the stored overrides of the runtime settings. */
import { integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const appSettings = pgTable('app_settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedBy: text('updated_by'),
  version: integer('version').notNull().default(1),
  ...timestamps,
});
