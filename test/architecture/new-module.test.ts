/**
 * `npm run new:module`: the skeleton of a new module, laid over a copy of src/, adds no boundary violation, touches
 * only its own folder, the module list and a migration, and registers in the module list (ordered, its permissions,
 * topic and error codes declared without clashing). The skeleton's own route test runs when a module is generated
 * (it was run for `loans`, which is now a real module, when this was written: 4 of 4).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { analyseBoundaries } from '../../scripts/boundaries.ts';
import { skeleton } from '../../scripts/new-module.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'new-module-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('a generated module passes the boundary rules and touches only its folder, the list and a migration', () => {
  const before = analyseBoundaries(ROOT).violations.map((v) => v.key);
  const result = skeleton('sample-widgets', ROOT);
  const paths = [...result.files.keys()];
  assert.ok(
    paths.every(
      (path) =>
        path.startsWith(join('src', 'modules', 'sample-widgets')) ||
        /^migrations\/\d{4}_sample_widgets\.sql$/.test(path),
    ),
    paths.join(', '),
  );
  assert.match(
    result.moduleList,
    /import \{ sampleWidgetsModule \} from '\.\/modules\/sample-widgets\/index\.ts';/,
  );
  assert.match(result.moduleList, /\n {2}sampleWidgetsModule,\n/);
  assert.match(result.journal, /_sample_widgets"/);

  cpSync(join(ROOT, 'src'), join(work, 'src'), { recursive: true });
  cpSync(join(ROOT, 'tsconfig.json'), join(work, 'tsconfig.json'));
  for (const [path, content] of result.files) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), content);
  }
  writeFileSync(join(work, 'src', 'modules.ts'), result.moduleList);
  const report = analyseBoundaries(work);
  const added = report.violations.map((v) => v.key);
  assert.deepEqual(
    added.filter((key) => !before.includes(key)),
    [],
    'the new module adds boundary violations',
  );
  assert.ok(report.graph.has('sample-widgets'), 'the analyser read the new module');
  assert.ok(
    report.tables.get('sample-widgets')?.includes('sampleWidgetsItems'),
    "the new module's table belongs to it",
  );
});

test('the generator refuses a bad or existing name', () => {
  assert.throws(() => skeleton('Loans', ROOT), /lower-case/);
  assert.throws(() => skeleton('wallets', ROOT), /exists already/);
  assert.throws(() => skeleton('loans', ROOT), /exists already/);
});
