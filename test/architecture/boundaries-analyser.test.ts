/**
 * The boundary analyser (scripts/boundaries.ts) on a small synthetic tree written to a temporary directory: each rule
 * fires on the import built to break it, through every import form (named, renamed, type-only, re-export,
 * `export *`, namespace, dynamic `import()`, `import('…')` type), and the allowed imports beside them raise
 * nothing. The tree's expected violations are compared as an exact set, so a rule that stops firing and a rule that
 * fires on an allowed import both fail here.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { analyseBoundaries, compareWithBaseline, type Violation } from '../../scripts/boundaries.ts';

const TREE: Record<string, string> = {
  // alpha: a module with one exported table, one table exported under another name, and its index re-exporting both.
  'src/modules/alpha/index.ts': `
export { alphaItems, alphaHidden } from './alpha.tables.ts';
export { alphaName, type AlphaThing } from './alpha.service.ts';
`,
  'src/modules/alpha/alpha.tables.ts': `
import { pgTable, text } from 'drizzle-orm/pg-core';
export const alphaItems = pgTable('alpha_items', { id: text('id') });
const hidden = pgTable('alpha_hidden', { id: text('id') });
export { hidden as alphaHidden };
`,
  'src/modules/alpha/alpha.service.ts': `
import { alphaItems } from './alpha.tables.ts';
export interface AlphaThing { name: string }
export function alphaName(): string { return String(alphaItems); }
`,

  // beta: allowed imports, then one file per way of breaking a rule.
  'src/modules/beta/index.ts': `
export { betaThing } from './beta.service.ts';
`,
  'src/modules/beta/beta.service.ts': `
import { alphaName, type AlphaThing } from '../alpha/index.ts';
import { timestamps } from '../../platform/platform.tables.ts';
import { writeAudit } from '../../platform/audit.ts';
import type { Port } from '../../integrations/ports.ts';
import { betaOwn } from './beta.tables.ts';
export const betaThing: AlphaThing & { port?: Port } = { name: alphaName() };
export const used = [timestamps, writeAudit, betaOwn];
`,
  'src/modules/beta/beta.tables.ts': `
import { pgTable, text } from 'drizzle-orm/pg-core';
export const betaOwn = pgTable('beta_own', { id: text('id') }).enableRLS();
`,
  'src/modules/beta/beta.renamed.ts': `
import { alphaItems as items } from '../alpha/index.ts';
export const renamed = items;
`,
  'src/modules/beta/beta.private.ts': `
import { alphaName } from '../alpha/alpha.service.ts';
export const privateName = alphaName();
`,
  'src/modules/beta/beta.audit.ts': `
import type { auditLog } from '../../platform/platform.tables.ts';
export type AuditTable = typeof auditLog;
`,
  'src/modules/beta/beta.reexport.ts': `
export { alphaHidden } from '../alpha/index.ts';
`,
  'src/modules/beta/beta.star.ts': `
export * from '../alpha/index.ts';
`,
  'src/modules/beta/beta.namespace.ts': `
import * as alpha from '../alpha/index.ts';
export const namespaced = alpha;
`,
  'src/modules/beta/beta.lazy.ts': `
export async function lazy(): Promise<unknown> {
  return import('../alpha/alpha.tables.ts');
}
`,
  'src/modules/beta/beta.types.ts': `
export type Row = typeof import('../alpha/index.ts').alphaItems;
export type Name = typeof import('../alpha/alpha.service.ts').alphaName;
export type Thing = import('../alpha/index.ts').AlphaThing;
`,
  // A test file may reach anywhere: not read.
  'src/modules/beta/beta.test.ts': `
import { alphaItems } from '../alpha/alpha.tables.ts';
export const fixture = alphaItems;
`,

  // gamma and delta import each other, one side by a type import only.
  'src/modules/gamma/index.ts': `
export { gamma } from './gamma.service.ts';
`,
  'src/modules/gamma/gamma.service.ts': `
import type { Delta } from '../delta/index.ts';
export const gamma: Partial<Delta> = {};
`,
  'src/modules/delta/index.ts': `
import { gamma } from '../gamma/index.ts';
export type Delta = { g: typeof gamma };
`,

  // The platform: a table, a helper beside it, a function, and one file that reaches up into a module.
  'src/platform/platform.tables.ts': `
import { pgTable, text } from 'drizzle-orm/pg-core';
export const auditLog = pgTable('audit_log', { id: text('id') });
export const timestamps = { createdAt: text('created_at') };
`,
  'src/platform/audit.ts': `
import { auditLog } from './platform.tables.ts';
export function writeAudit(): unknown { return auditLog; }
`,
  'src/platform/upward.ts': `
import type { AlphaThing } from '../modules/alpha/index.ts';
export type Up = AlphaThing;
`,

  // Integrations: a port (allowed) and a client that imports a module.
  'src/integrations/ports.ts': `
export interface Port { send(): void }
`,
  'src/integrations/acme/acme.client.ts': `
import { alphaName } from '../../modules/alpha/index.ts';
import type { Port } from '../ports.ts';
export const acme: Port & { name: string } = { send() {}, name: alphaName() };
`,

  // The composition root: module indexes are fine, a table or a private file is not.
  'src/app.ts': `
import { alphaName, alphaItems } from './modules/alpha/index.ts';
import { betaThing } from './modules/beta/index.ts';
import { used } from './modules/beta/beta.service.ts';
export const app = [alphaName, alphaItems, betaThing, used];
`,
};

const EXPECTED = [
  'foreign-table: src/app.ts -> alpha.alphaItems',
  'foreign-table: src/modules/beta/beta.audit.ts -> platform.auditLog',
  'foreign-table: src/modules/beta/beta.lazy.ts -> alpha.alphaItems',
  'foreign-table: src/modules/beta/beta.lazy.ts -> alpha.hidden',
  'foreign-table: src/modules/beta/beta.namespace.ts -> alpha.alphaItems',
  'foreign-table: src/modules/beta/beta.namespace.ts -> alpha.hidden',
  'foreign-table: src/modules/beta/beta.reexport.ts -> alpha.hidden',
  'foreign-table: src/modules/beta/beta.renamed.ts -> alpha.alphaItems',
  'foreign-table: src/modules/beta/beta.star.ts -> alpha.alphaItems',
  'foreign-table: src/modules/beta/beta.star.ts -> alpha.hidden',
  'foreign-table: src/modules/beta/beta.types.ts -> alpha.alphaItems',
  'module-cycle: delta, gamma',
  'private-file: src/app.ts -> src/modules/beta/beta.service.ts',
  'private-file: src/modules/beta/beta.lazy.ts -> src/modules/alpha/alpha.tables.ts',
  'private-file: src/modules/beta/beta.private.ts -> src/modules/alpha/alpha.service.ts',
  'private-file: src/modules/beta/beta.types.ts -> src/modules/alpha/alpha.service.ts',
  'upward-import: src/integrations/acme/acme.client.ts -> src/modules/alpha/index.ts',
  'upward-import: src/platform/upward.ts -> src/modules/alpha/index.ts',
];

function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'boundaries-tree-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text.trimStart());
  }
  return root;
}

describe('boundary analyser on a synthetic tree', () => {
  const root = writeTree(TREE);
  after(() => rmSync(root, { recursive: true, force: true }));
  const report = analyseBoundaries(root);
  const byKey = new Map(report.violations.map((violation) => [violation.key, violation]));
  const message = (key: string): string => {
    const violation = byKey.get(key);
    assert.ok(violation, `no violation ${key}; found:\n${[...byKey.keys()].join('\n')}`);
    return violation.message;
  };

  test('finds exactly the violations built into the tree, and none for the allowed imports', () => {
    assert.deepEqual(
      report.violations.map((violation) => violation.key),
      EXPECTED,
    );
  });

  test('reads the production files only, and finds each table with its owner', () => {
    assert.equal(report.files, Object.keys(TREE).filter((path) => !path.endsWith('.test.ts')).length);
    assert.deepEqual(
      Object.fromEntries([...report.tables].map(([owner, names]) => [owner, [...names].sort()])),
      { alpha: ['alphaItems', 'hidden'], beta: ['betaOwn'], platform: ['auditLog'] },
    );
    assert.deepEqual(
      Object.fromEntries([...report.graph].map(([module, targets]) => [module, [...targets].sort()])),
      { alpha: [], beta: ['alpha'], delta: ['gamma'], gamma: ['delta'] },
    );
  });

  test('private-file names the file, the import, the rule and the door to use', () => {
    const text = message(
      'private-file: src/modules/beta/beta.private.ts -> src/modules/alpha/alpha.service.ts',
    );
    assert.match(text, /^\[private-file\] /);
    assert.match(
      text,
      /src\/modules\/beta\/beta\.private\.ts:1 {2}import \{ alphaName \} from '\.\.\/alpha\/alpha\.service\.ts';/,
    );
    assert.match(text, /Instead: Import from src\/modules\/alpha\/index\.ts/);
  });

  test('foreign-table follows a renamed import through the re-exporting index to the declaration', () => {
    const text = message('foreign-table: src/modules/beta/beta.renamed.ts -> alpha.alphaItems');
    assert.match(text, /a table of the alpha module \(declared in src\/modules\/alpha\/alpha\.tables\.ts\)/);
    assert.match(
      text,
      /beta\.renamed\.ts:1 {2}import \{ alphaItems as items \} from '\.\.\/alpha\/index\.ts';/,
    );
    assert.match(text, /Instead: Only alpha reads or writes its tables: call a function that alpha exports/);
  });

  test('foreign-table covers platform tables, even by a type-only import, but not the helpers beside them', () => {
    assert.match(
      message('foreign-table: src/modules/beta/beta.audit.ts -> platform.auditLog'),
      /Instead: Platform tables are read and written only by src\/platform/,
    );
    assert.ok(!byKey.has('foreign-table: src/modules/beta/beta.service.ts -> platform.timestamps'));
  });

  test('upward-import fires for src/platform and src/integrations, type imports included', () => {
    assert.match(
      message('upward-import: src/platform/upward.ts -> src/modules/alpha/index.ts'),
      /import type \{ AlphaThing \} from '\.\.\/modules\/alpha\/index\.ts';[\s\S]*Instead: src\/platform sits below/,
    );
  });

  test('module-cycle lists one import for each edge of the circle', () => {
    const text = message('module-cycle: delta, gamma');
    assert.match(text, /delta -> gamma: src\/modules\/delta\/index\.ts:1 {2}import \{ gamma \}/);
    assert.match(
      text,
      /gamma -> delta: src\/modules\/gamma\/gamma\.service\.ts:1 {2}import type \{ Delta \}/,
    );
    assert.match(text, /Instead: Break one edge/);
  });

  test('a tree that keeps to the rules has no violation', () => {
    const clean = Object.fromEntries(
      Object.entries(TREE).filter(
        ([path]) =>
          !/beta\.(renamed|private|audit|reexport|star|namespace|lazy|types)\.ts$|upward\.ts$|acme\.client\.ts$|src\/app\.ts$|gamma\.service\.ts$/.test(
            path,
          ),
      ),
    );
    clean['src/modules/gamma/gamma.service.ts'] = 'export const gamma = 1;\n';
    const cleanRoot = writeTree(clean);
    try {
      assert.deepEqual(analyseBoundaries(cleanRoot).violations, []);
    } finally {
      rmSync(cleanRoot, { recursive: true, force: true });
    }
  });
});

describe('baseline comparison', () => {
  const violation = (key: string): Violation => ({ rule: 'private-file', key, message: key });

  test('reports violations the baseline lacks and entries that no longer occur', () => {
    const { unexpected, stale } = compareWithBaseline([violation('a'), violation('b')], ['b', 'c']);
    assert.deepEqual(
      unexpected.map((item) => item.key),
      ['a'],
    );
    assert.deepEqual(stale, ['c']);
  });

  test('is quiet when the baseline matches', () => {
    assert.deepEqual(compareWithBaseline([violation('a')], ['a']), { unexpected: [], stale: [] });
  });
});
