/** Tables owned by the core module: entity categories (seeded from `seed/category.json`). */
import { boolean, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const entityCategories = pgTable(
  'entity_categories',
  {
    id: uuid('id').primaryKey(),
    entityType: text('entity_type').notNull(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    active: boolean('active').notNull().default(true),
    sortOrder: integer('sort_order').notNull().default(0),
    ...timestamps,
  },
  (table) => [uniqueIndex('entity_categories_type_code').on(table.entityType, table.code)],
);
