/**
 * The import-boundary test (issue 15): the production files under src/ keep to the module boundaries that
 * scripts/boundaries.ts checks: a module enters another only through its index.ts, never imports a table it does
 * not own, src/platform and src/integrations import nothing from src/modules, and no circle joins the modules. Test
 * files are not covered; scripts/boundaries.ts says why.
 *
 * boundary-baseline.json lists the violations that were on main when this test arrived. It is a ratchet: a violation
 * it does not list fails here, and so does a listed one that no longer occurs, so the list only shrinks as fixes land
 * (`npm run boundaries -- --prune` removes the fixed entries), down to empty. Never add an entry.
 * boundaries-analyser.test.ts shows on a synthetic tree that each rule fires.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  analyseBoundaries,
  BASELINE_PATH,
  compareWithBaseline,
  readBaseline,
} from '../../scripts/boundaries.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const report = analyseBoundaries(ROOT);
const baseline = readBaseline(ROOT);
const { unexpected, stale } = compareWithBaseline(report.violations, baseline.violations);

test('the analyser read every module and found the tables', () => {
  const modules = readdirSync(join(ROOT, 'src/modules'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, 'src/modules', entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
  assert.ok(modules.length >= 10, `only ${modules.length} modules under src/modules`);
  assert.deepEqual([...report.graph.keys()].sort(), modules);
  const tables = [...report.tables.values()].reduce((sum, names) => sum + names.length, 0);
  assert.ok(tables >= 40, `only ${tables} tables found`);
  assert.ok(report.imports > report.files, `${report.imports} imports in ${report.files} files`);
});

test('no import breaks a module boundary, apart from the known violations in the baseline', () => {
  assert.equal(
    unexpected.length,
    0,
    `${unexpected.length} import(s) break a module boundary:\n\n${unexpected.map((violation) => violation.message).join('\n\n')}\n\n` +
      `Change the import as each one says. ${BASELINE_PATH} lists only violations older than this test; do not add to it.`,
  );
});

test('every violation the baseline lists still occurs (the list shrinks as fixes land)', () => {
  assert.deepEqual(
    stale,
    [],
    `${stale.length} baseline entries no longer occur. Remove them from ${BASELINE_PATH} ` +
      `(npm run boundaries -- --prune does it):\n${stale.join('\n')}`,
  );
});

test('the baseline is sorted, without duplicates', () => {
  const sorted = [...new Set(baseline.violations)].sort();
  assert.deepEqual(baseline.violations, sorted);
});
