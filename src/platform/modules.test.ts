import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Type } from 'typebox';
import type { Dependencies } from './dependencies.ts';
import { defineTopic } from './events.ts';
import {
  checkDeclarations,
  defineModule,
  type ModuleDefinition,
  ModuleGraphError,
  ModuleSystem,
  orderModules,
} from './modules.ts';
import { TransactionTypes } from './transaction-types.ts';

const module = (name: string, dependsOn: string[] = [], extra: Partial<ModuleDefinition<unknown>> = {}) =>
  defineModule<unknown>({ name, description: name, dependsOn, create: () => ({ name }), ...extra });

const names = (modules: { name: string }[]) => modules.map((m) => m.name);

const done = defineTopic('x.done', 1, Type.Object({ id: Type.String() }));

describe('module graph', () => {
  test('orders every module after what it depends on, keeping the list order otherwise', () => {
    const ordered = orderModules([module('c', ['b']), module('a'), module('b', ['a']), module('d')]);
    assert.deepEqual(names(ordered), ['a', 'b', 'c', 'd']);
  });

  test('a dependency missing from the list is refused by name', () => {
    assert.throws(
      () => orderModules([module('loans', ['wallets', 'scoring']), module('wallets')]),
      (error: unknown) =>
        error instanceof ModuleGraphError &&
        /"loans" depends on "scoring", which is not in the module list/.test(error.message),
    );
  });

  test('a cycle is refused with its path', () => {
    assert.throws(
      () => orderModules([module('a', ['c']), module('b', ['a']), module('c', ['b'])]),
      (error: unknown) => error instanceof ModuleGraphError && /cycle: a -> c -> b -> a/.test(error.message),
    );
    assert.throws(() => orderModules([module('a', ['a'])]), /depends on itself/);
  });

  test('a name listed twice, or not lower-case, is refused', () => {
    assert.throws(() => orderModules([module('a'), module('a')]), /"a" is listed twice/);
    assert.throws(() => orderModules([module('Loans')]), /must be lower-case/);
  });

  test('a permission, topic or transaction type declared twice is refused, naming both modules', () => {
    const permission = { code: 'loan:read', description: 'Read loans' };
    assert.throws(
      () =>
        checkDeclarations([
          module('loans', [], { permissions: [permission] }),
          module('cards', [], { permissions: [permission] }),
        ]),
      /permission "loan:read" is declared by both "loans" and "cards"/,
    );
    assert.throws(
      () =>
        checkDeclarations([module('a', [], { publishes: [done] }), module('b', [], { publishes: [done] })]),
      /topic "x.done" is declared by both "a" and "b"/,
    );
    assert.throws(
      () =>
        checkDeclarations([
          module('a', [], { transactionTypes: ['loan_disbursement', 'loan_disbursement'] }),
        ]),
      /transaction type "loan_disbursement" is declared by both "a" and "a" \(twice\)/,
    );
    assert.throws(
      () =>
        checkDeclarations([
          module('loans', [], { transactionTypes: ['loan_repayment'] }),
          module('cards', [], { transactionTypes: [{ type: 'loan_repayment', label: 'Card repayment' }] }),
        ]),
      /transaction type "loan_repayment" is declared by both "loans" and "cards"/,
    );
  });

  test('a transaction type must be lower-case words joined by underscores', () => {
    for (const bad of ['Cash_In', 'cash-in', '1fee', '', 'cash in'])
      assert.throws(
        () => checkDeclarations([module('agents', [], { transactionTypes: [bad] })]),
        (error: unknown) => error instanceof ModuleGraphError && /must match/.test(error.message),
        bad,
      );
    checkDeclarations([module('agents', [], { transactionTypes: ['cash_in', 'float_topup2'] })]);
  });
});

describe('module system', () => {
  const deps = { database: { db: {} } } as unknown as Dependencies;
  const noConfig = () => ({});

  test('builds each API once, in dependency order, and a module reaches only what it declared', async () => {
    const built: string[] = [];
    const base = defineModule({
      name: 'base',
      description: 'base',
      dependsOn: [],
      create: () => {
        built.push('base');
        return { answer: 42 };
      },
    });
    const other = defineModule({ name: 'other', description: 'other', dependsOn: [], create: () => 'other' });
    const top = defineModule({
      name: 'top',
      description: 'top',
      dependsOn: ['base'],
      create: (ctx) => {
        built.push('top');
        return { doubled: ctx.use(base).answer * 2 };
      },
    });
    const sneaky = defineModule({
      name: 'sneaky',
      description: 'sneaky',
      dependsOn: ['base'],
      create: (ctx) => ctx.use(other),
    });
    const system = await ModuleSystem.compose(
      deps,
      [top, base, other] as ModuleDefinition<unknown>[],
      noConfig,
    );
    assert.deepEqual(built, ['base', 'top']);
    assert.equal(system.api(top).doubled, 84);
    await assert.rejects(
      ModuleSystem.compose(deps, [base, other, sneaky] as ModuleDefinition<unknown>[], noConfig),
      /"sneaky" uses "other" without declaring it in dependsOn/,
    );
  });

  test('contributions are collected in dependency order and close runs in reverse', async () => {
    const closed: string[] = [];
    const make = (name: string, dependsOn: string[]) =>
      defineModule({
        name,
        description: name,
        dependsOn,
        create: () => name,
        health: () => ({ [name]: async () => {} }),
        close: async () => {
          closed.push(name);
        },
      });
    const system = await ModuleSystem.compose(
      deps,
      [make('b', ['a']), make('a', [])] as ModuleDefinition<unknown>[],
      noConfig,
    );
    assert.deepEqual(
      system.collect((m, api, ctx) => m.health?.(api, ctx)).map((found) => found.module),
      ['a', 'b'],
    );
    await system.close();
    assert.deepEqual(closed, ['b', 'a']);
  });
});

describe('transaction types', () => {
  const deps = { database: { db: {} } } as unknown as Dependencies;

  test('every module gets the types all composed modules declare, with their owners and labels', async () => {
    const seen: string[][] = [];
    const payments = defineModule({
      name: 'payments',
      description: 'payments',
      dependsOn: [],
      transactionTypes: [{ type: 'p2p', label: 'Transfer' }, 'cash_deposit'],
      // Built first: it still sees the types of modules built after it (agents depends on it).
      create: (ctx) => seen.push(ctx.transactionTypes.list()),
    });
    const agents = defineModule({
      name: 'agents',
      description: 'agents',
      dependsOn: ['payments'],
      transactionTypes: ['cash_in', 'cash_out', 'float_topup', 'float_transfer', 'commission_payout'],
      create: (ctx) => seen.push(ctx.transactionTypes.list()),
    });
    const system = await ModuleSystem.compose(
      deps,
      [agents, payments] as ModuleDefinition<unknown>[],
      () => ({}),
    );
    const all = [
      'p2p',
      'cash_deposit',
      'cash_in',
      'cash_out',
      'float_topup',
      'float_transfer',
      'commission_payout',
    ];
    assert.deepEqual(seen, [all, all]);
    const types = system.context(payments as ModuleDefinition<unknown>).transactionTypes;
    assert.equal(types.owner('cash_in'), 'agents');
    assert.equal(types.owner('p2p'), 'payments');
    assert.equal(types.label('p2p'), 'Transfer');
    assert.equal(
      types.label('commission_payout'),
      'Commission payout',
      'a bare name is labelled by its words',
    );
    assert.equal(types.has('lottery'), false);
  });

  test('a type no module declared is refused with a thrown Error naming it (a programming error)', () => {
    const types = new TransactionTypes([{ name: 'payments', transactionTypes: ['p2p'] }]);
    types.assert('p2p');
    assert.throws(
      () => types.assert('lottery'),
      (error: unknown) =>
        error instanceof Error &&
        !('statusCode' in error) &&
        /transaction type "lottery" is not declared by any module/.test(error.message) &&
        /declared: p2p/.test(error.message),
    );
    assert.throws(() => new TransactionTypes([{ name: 'x', transactionTypes: ['Bad'] }]), /must match/);
  });
});
