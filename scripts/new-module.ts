/**
 * `npm run new:module <name>`: writes a module skeleton under src/modules/<name>/ that follows the module contract
 * and passes the boundary test — a sample entity with its table, migration, repository, service, routes and schemas,
 * an error catalogue, an event topic, seed permissions and a route test (happy path, error, another customer's) —
 * then adds the module to src/modules.ts. See docs/modules.md.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

export interface Skeleton {
  /** Path (from the repository root) → content. */
  files: Map<string, string>;
  /** The module list with the new module added. */
  moduleList: string;
  /** The migration journal with the new migration added. */
  journal: string;
}

const pascal = (name: string) => name.replace(/(^|-)([a-z0-9])/g, (_m, _dash, c: string) => c.toUpperCase());
const camel = (name: string) => pascal(name).replace(/^./, (c) => c.toLowerCase());
const snake = (name: string) => name.replaceAll('-', '_');

export function skeleton(name: string, root = ROOT): Skeleton {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name))
    throw new Error(`module name "${name}" must be lower-case letters and digits (dashes between words)`);
  const dir = join('src', 'modules', name);
  if (existsSync(join(root, dir))) throw new Error(`${dir} exists already`);
  const Name = pascal(name);
  const id = camel(name);
  const table = `${snake(name)}_items`;
  const CODE = snake(name).toUpperCase();
  const tag = snake(name);

  const migrations = readdirSync(join(root, 'migrations')).filter((file) => /^\d{4}_.*\.sql$/.test(file));
  const next = Math.max(...migrations.map((file) => Number(file.slice(0, 4)))) + 1;
  const migrationTag = `${String(next).padStart(4, '0')}_${tag}`;
  const journalPath = join(root, 'migrations', 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as {
    entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
  };
  journal.entries.push({
    idx: Math.max(...journal.entries.map((entry) => entry.idx)) + 1,
    version: '7',
    // Drizzle applies a migration only if its `when` is later than the last applied one's: never go backwards.
    when: Math.max(Date.now(), ...journal.entries.map((entry) => entry.when + 1)),
    tag: migrationTag,
    breakpoints: true,
  });

  const files = new Map<string, string>();
  files.set(
    join('migrations', `${migrationTag}.sql`),
    `-- Why: the ${name} module's first table (its sample entity; replace it with the module's own).
CREATE TABLE "${table}" (
  "id" uuid PRIMARY KEY NOT NULL,
  "customer_id" uuid NOT NULL,
  "reference" text NOT NULL,
  "amount_minor" bigint NOT NULL,
  "currency" char(3) NOT NULL,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT "${table}_amount_positive" CHECK ("amount_minor" > 0)
);--> statement-breakpoint
CREATE UNIQUE INDEX "${table}_customer_reference" ON "${table}" USING btree ("customer_id","reference");
`,
  );

  files.set(
    join(dir, `${name}.tables.ts`),
    `/** The ${name} module's tables: no other module imports them (the boundary test checks). */
import { bigint, char, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const ${id}Items = pgTable(
  '${table}',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id').notNull(),
    reference: text('reference').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('${table}_customer_reference').on(table.customerId, table.reference)],
);
`,
  );

  files.set(
    join(dir, `${name}.repository.ts`),
    `/** The ${name} module's SQL; each function takes the executor (or transaction) it runs on. */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { ${id}Items } from './${name}.tables.ts';

export type ${Name}ItemRow = typeof ${id}Items.$inferSelect;

export async function findItem(db: Executor, id: string): Promise<${Name}ItemRow | undefined> {
  const [row] = await db.select().from(${id}Items).where(eq(${id}Items.id, id)).limit(1);
  return row;
}

/** Inserts an item; null when the customer already has one with this reference. */
export async function insertItem(tx: Executor, item: typeof ${id}Items.$inferInsert): Promise<${Name}ItemRow | null> {
  const [row] = await tx.insert(${id}Items).values(item).onConflictDoNothing().returning();
  return row ?? null;
}
`,
  );

  files.set(
    join(dir, `${name}.errors.ts`),
    `/** The ${name} module's closed set of error codes (docs/errors.md is generated from it). */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';

const definitions = {
  ${CODE}_REFERENCE_TAKEN: {
    status: 409,
    message: 'An item with reference {reference} exists already',
    description: 'The customer already has an item with this reference.',
  },
} as const satisfies ErrorDefinitions;

type ${Name}ErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends ${Name}ErrorCodes {}
}

export const ${id}Errors = defineErrors('${name}', definitions);
`,
  );

  files.set(
    join(dir, `${name}.events.ts`),
    `/** The topics the ${name} module publishes (docs/events.md is generated from them). */
import { Type } from 'typebox';
import { defineTopic, MinorUnits } from '../../platform/events.ts';

export const ${id}ItemCreated = defineTopic(
  '${snake(name)}.item_created',
  1,
  Type.Object(
    {
      item_id: Type.String(),
      customer_id: Type.String(),
      amount_minor: MinorUnits(),
      currency: Type.String(),
    },
    { additionalProperties: false },
  ),
  'A ${name} item was created.',
);

export const ${id}Topics = [${id}ItemCreated];
`,
  );

  files.set(
    join(dir, `${name}.schemas.ts`),
    `/** Request and response schemas of the ${name} routes. */
import { Type } from 'typebox';

export const ItemCreate = Type.Object(
  {
    customer_id: Type.Optional(
      Type.String({ format: 'uuid', description: 'Staff: whose item. Customers: their own (may be left out).' }),
    ),
    reference: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
    amount_minor: Type.Integer({ minimum: 1, maximum: 9007199254740991, description: 'Minor units.' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { additionalProperties: false },
);

export const ItemView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ format: 'uuid' }),
  reference: Type.String(),
  amount_minor: Type.Integer(),
  currency: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
`,
  );

  files.set(
    join(dir, `${name}.service.ts`),
    `/** The ${name} module's use cases: one transaction each, with its audit entry and event. */
import type { Static } from 'typebox';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, type Principal } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { ${id}Errors } from './${name}.errors.ts';
import { ${id}ItemCreated } from './${name}.events.ts';
import { findItem, insertItem, type ${Name}ItemRow } from './${name}.repository.ts';
import type { ItemCreate, ItemView } from './${name}.schemas.ts';

export function itemView(row: ${Name}ItemRow): Static<typeof ItemView> {
  return {
    id: row.id,
    customer_id: row.customerId,
    reference: row.reference,
    amount_minor: Number(row.amountMinor),
    currency: row.currency,
    created_at: row.createdAt.toISOString(),
  };
}

export class ${Name}Service {
  readonly #deps: Dependencies;

  constructor(deps: Dependencies) {
    this.#deps = deps;
  }

  async create(
    principal: Principal,
    input: Static<typeof ItemCreate>,
    context: RequestContext,
  ): Promise<Static<typeof ItemView>> {
    const customerId = input.customer_id ?? (principal.type === 'customer' ? principal.id : undefined);
    if (!customerId)
      throw commonErrors.validation('Request validation failed', {
        errors: [{ field: 'body.customer_id', message: 'is required when staff create an item', rule: 'required' }],
      });
    assertOwnership(principal, customerId, 'Customer');
    return inTransaction(this.#deps.database.db, async (tx) => {
      const row = await insertItem(tx, {
        id: uuidv7(),
        customerId,
        reference: input.reference,
        amountMinor: BigInt(input.amount_minor),
        currency: input.currency,
      });
      if (!row) throw ${id}Errors.${CODE}_REFERENCE_TAKEN({ params: { reference: input.reference } });
      await writeAudit(tx, context, {
        action: '${snake(name)}.item_create',
        entityType: '${snake(name)}_item',
        entityId: row.id,
        after: { reference: row.reference, amount_minor: String(row.amountMinor), currency: row.currency },
      });
      await emitEvent(
        tx,
        ${id}ItemCreated,
        { type: '${snake(name)}_item', id: row.id },
        {
          item_id: row.id,
          customer_id: row.customerId,
          amount_minor: String(row.amountMinor),
          currency: row.currency,
        },
      );
      return itemView(row);
    });
  }

  /** One item; a customer sees only their own (anyone else's answers 404, as if it did not exist). */
  async get(principal: Principal, id: string): Promise<Static<typeof ItemView>> {
    const row = await findItem(this.#deps.database.db, id);
    if (!row) throw commonErrors.notFound('Item');
    assertOwnership(principal, row.customerId, 'Item');
    return itemView(row);
  }
}
`,
  );

  files.set(
    join(dir, `${name}.routes.ts`),
    `/** HTTP routes of \`/api/v1/${name}\`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { IdParams, ItemCreate, ItemView } from './${name}.schemas.ts';
import type { ${Name}Service } from './${name}.service.ts';

export function ${id}Routes(service: ${Name}Service): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/${name}/item/add',
      {
        config: {
          access: { permission: '${name}:manage', allowCustomer: true },
          // The codes it may answer beyond the generic ones (the test harness fails on an undeclared one).
          errors: ['${CODE}_REFERENCE_TAKEN', 'NOT_FOUND'],
        },
        schema: {
          operationId: 'add${Name}Item',
          tags: ['${name}'],
          summary: 'Create an item (customers: their own)',
          body: ItemCreate,
          response: { 201: ItemView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await service.create(requirePrincipal(request), request.body, contextOf(request))),
    );

    app.get(
      '/api/v1/${name}/item/:id',
      {
        config: { access: { permission: '${name}:read', allowCustomer: true }, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'get${Name}Item',
          tags: ['${name}'],
          summary: 'One item (customers: their own)',
          params: IdParams,
          response: { 200: ItemView },
        },
      },
      async (request) => service.get(requirePrincipal(request), request.params.id),
    );
  };
}
`,
  );

  files.set(
    join(dir, 'index.ts'),
    `/** ${Name}: (say in one line what the module does). Other modules reach it only through this file. */
import { defineModule } from '../../platform/modules.ts';
import { ${id}Errors } from './${name}.errors.ts';
import { ${id}Topics } from './${name}.events.ts';
import { ${id}Routes } from './${name}.routes.ts';
import { ${Name}Service } from './${name}.service.ts';
import { ${id}Items } from './${name}.tables.ts';

export { ${id}ItemCreated } from './${name}.events.ts';
export { ${Name}Service } from './${name}.service.ts';

export const ${id}Module = defineModule({
  name: '${name}',
  description: '${Name}: (one line for docs/architecture.md)',
  dependsOn: [],
  errors: ${id}Errors,
  tables: { ${id}Items },
  permissions: [
    { code: '${name}:read', description: 'Read ${name} items' },
    { code: '${name}:manage', description: 'Create ${name} items' },
  ],
  publishes: ${id}Topics,
  create: ({ deps }) => new ${Name}Service(deps),
  routes: (service) => ${id}Routes(service),
});
`,
  );

  files.set(
    join(dir, `${name}.test.ts`),
    `/** \`/api/v1/${name}\`: the happy path, an error, and another customer's item. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventsOf } from '../../platform/outbox.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';

describe('${name} module', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let bob: TestCustomer;
  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254711000201');
    bob = await createCustomer(t, 'Bob', '+254711000202');
  });
  after(async () => t.close());

  const add = (token: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/${name}/item/add', headers: bearer(token), payload });

  test('a customer creates an item and reads it back; the event is in the outbox', async () => {
    const created = await add(alice.token, { reference: 'first', amount_minor: 1500, currency: 'KES' });
    assert.equal(created.statusCode, 201, created.body);
    const item = created.json();
    assert.equal(item.customer_id, alice.id);
    const read = await t.app.inject({ method: 'GET', url: \`/api/v1/${name}/item/\${item.id}\`, headers: bearer(alice.token) });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), item);
    const events = await eventsOf(t.deps.database.db, '${snake(name)}_item', item.id);
    assert.deepEqual(
      events.map((event) => [event.topic, (event.payload as { amount_minor: string }).amount_minor]),
      [['${snake(name)}.item_created', '1500']],
    );
  });

  test('a second item with the same reference answers 409 ${CODE}_REFERENCE_TAKEN; bad input 422', async () => {
    assert.equal((await add(alice.token, { reference: 'dup', amount_minor: 1, currency: 'KES' })).statusCode, 201);
    const again = await add(alice.token, { reference: 'dup', amount_minor: 2, currency: 'KES' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, '${CODE}_REFERENCE_TAKEN');
    const bad = await add(alice.token, { reference: 'x', amount_minor: 0, currency: 'KES' });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().error_code, 'VALIDATION_ERROR');
  });

  test("another customer's item answers 404, and a customer cannot create one for someone else", async () => {
    const created = await add(alice.token, { reference: 'private', amount_minor: 10, currency: 'KES' });
    const theirs = await t.app.inject({
      method: 'GET',
      url: \`/api/v1/${name}/item/\${created.json().id}\`,
      headers: bearer(bob.token),
    });
    assert.equal(theirs.statusCode, 404);
    const forAlice = await add(bob.token, { customer_id: alice.id, reference: 'sneaky', amount_minor: 10, currency: 'KES' });
    assert.equal(forAlice.statusCode, 404);
  });

  test('staff with the permission create an item for a customer', async () => {
    const created = await add(t.adminToken, { customer_id: bob.id, reference: 'by-staff', amount_minor: 99, currency: 'KES' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().customer_id, bob.id);
  });
});
`,
  );

  const listPath = join(root, 'src', 'modules.ts');
  let moduleList = readFileSync(listPath, 'utf8');
  const importLine = `import { ${id}Module } from './modules/${name}/index.ts';\n`;
  const lastModuleImport = [
    ...moduleList.matchAll(/^import \{ \w+Module \} from '\.\/modules\/[^']+';\n/gm),
  ].at(-1);
  if (!lastModuleImport?.index) throw new Error('src/modules.ts: no module import found');
  const at = lastModuleImport.index + lastModuleImport[0].length;
  moduleList = moduleList.slice(0, at) + importLine + moduleList.slice(at);
  moduleList = moduleList.replace(/(export const MODULES[^=]*= \[\n(?: {2}\w+,\n)+)/, `$1  ${id}Module,\n`);
  return { files, moduleList, journal: `${JSON.stringify(journal, null, 2)}\n` };
}

if (import.meta.main) {
  const name = process.argv[2];
  if (!name) {
    process.stderr.write('usage: npm run new:module <name>\n');
    process.exit(2);
  }
  const result = skeleton(name);
  for (const [path, content] of result.files) {
    mkdirSync(join(ROOT, path, '..'), { recursive: true });
    writeFileSync(join(ROOT, path), content);
    process.stdout.write(`wrote ${path}\n`);
  }
  writeFileSync(join(ROOT, 'src', 'modules.ts'), result.moduleList);
  writeFileSync(join(ROOT, 'migrations', 'meta', '_journal.json'), result.journal);
  process.stdout.write(
    'added it to src/modules.ts and the migration journal.\n' +
      'Next: npx biome check --write src/modules/' +
      name +
      ' && npm run openapi:write && npm run docs:modules && npm run docs:errors && npm run docs:events, then\n' +
      `node --test src/modules/${name}/${name}.test.ts and npm run boundaries (docs/modules.md).\n`,
  );
}
