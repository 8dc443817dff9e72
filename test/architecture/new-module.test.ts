/**
 * `npm run new:module`: the skeleton of a new module, laid over a copy of src/, adds no boundary violation, touches
 * only its own folder, the module list and a migration, and registers in the module list (ordered, its permissions,
 * topic and error codes declared without clashing). The skeleton's own route test runs when a module is generated
 * (it was run for `loans` when this was written: 4 of 4).
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
  const result = skeleton('loans', ROOT);
  const paths = [...result.files.keys()];
  assert.ok(
    paths.every(
      (path) =>
        path.startsWith(join('src', 'modules', 'loans')) || /^migrations\/\d{4}_loans\.sql$/.test(path),
    ),
    paths.join(', '),
  );
  assert.match(result.moduleList, /import \{ loansModule \} from '\.\/modules\/loans\/index\.ts';/);
  assert.match(result.moduleList, /\n {2}loansModule,\n/);
  assert.match(result.journal, /_loans"/);

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
  assert.ok(report.graph.has('loans'), 'the analyser read the new module');
  assert.ok(report.tables.get('loans')?.includes('loansItems'), "the new module's table belongs to it");
});

test('the generator refuses a bad or existing name', () => {
  assert.throws(() => skeleton('Loans', ROOT), /lower-case/);
  assert.throws(() => skeleton('wallets', ROOT), /exists already/);
});
