/**
 * The error catalogue holds together: every module's errors file is collected by src/errors.ts, no AppError is built
 * by hand outside the errors files, every code an operation declares is in the catalogue, and docs/errors.md is the
 * page the catalogue writes (`npm run docs:errors`).
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ERRORS_DOC_FILE, errorsDocument } from '../../scripts/write-errors-doc.ts';
import { API_ERRORS } from '../../src/api-errors.ts';
import { ERROR_CATALOGUES, errorCatalogue } from '../../src/errors.ts';
import type { ErrorCatalogue } from '../../src/platform/error-catalogue.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function isCatalogue(value: unknown): value is ErrorCatalogue {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { module?: unknown }).module === 'string' &&
    typeof (value as { definitions?: unknown }).definitions === 'object'
  );
}

/** An area's plain definitions (`loans.accounts.errors.ts`): code → {status, message, description}. */
function isDefinitions(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || isCatalogue(value)) return false;
  return Object.values(value).every(
    (entry) =>
      typeof entry === 'object' &&
      entry !== null &&
      typeof (entry as { status?: unknown }).status === 'number' &&
      typeof (entry as { message?: unknown }).message === 'string',
  );
}

test('every module errors file is collected: its module definition carries its catalogue', async () => {
  const files = globSync('src/modules/*/*.errors.ts', { cwd: ROOT }).sort();
  assert.ok(files.length >= 15, `found the errors files (${files.length})`);
  const missing: string[] = [];
  const catalogue = errorCatalogue();
  for (const file of files) {
    const exported = Object.values(await import(pathToFileURL(join(ROOT, file)).href));
    const catalogues = exported.filter(isCatalogue);
    if (catalogues.length === 0) {
      // A module with several areas keeps each area's codes in its own file, joined into the module's one
      // catalogue (loans.errors.ts): every code such a file defines must reach the collected catalogue.
      const definitions = exported.filter(isDefinitions);
      assert.ok(
        definitions.length > 0,
        `${file} exports one catalogue (defineErrors) or an area's definitions`,
      );
      for (const code of definitions.flatMap((entry) => Object.keys(entry)))
        if (!catalogue.has(code as never)) missing.push(`${file}: ${code}`);
      continue;
    }
    assert.equal(catalogues.length, 1, `${file} exports one catalogue (defineErrors)`);
    if (!ERROR_CATALOGUES.includes(catalogues[0]!)) missing.push(file);
  }
  assert.deepEqual(
    missing,
    [],
    'errors files whose catalogue no module definition carries (`errors` in its index.ts)',
  );
  assert.ok(errorCatalogue().size > 100, 'the collected catalogue has every code once');
});

test('no AppError is built by hand outside the errors files (the catalogues make them)', () => {
  const offenders: string[] = [];
  for (const file of globSync('{src,scripts}/**/*.ts', { cwd: ROOT })) {
    if (file.endsWith('.errors.ts') || file === join('src', 'platform', 'error-catalogue.ts')) continue;
    const text = readFileSync(join(ROOT, file), 'utf8');
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      // A line that must not compile (a type-level test) is no offender.
      if (lines[index - 1]?.includes('@ts-expect-error')) return;
      if (/new AppError\b|AppError\.of\(/.test(line))
        offenders.push(`${relative(ROOT, join(ROOT, file))}:${index + 1}`);
    });
  }
  assert.deepEqual(offenders, [], 'use the owning module’s catalogue (its <module>.errors.ts) instead');
});

test('every code an operation declares is in the catalogue', () => {
  const catalogue = errorCatalogue();
  const unknown = Object.entries(API_ERRORS).flatMap(([operation, codes]) =>
    codes.filter((code) => !catalogue.has(code)).map((code) => `${operation}: ${code}`),
  );
  assert.deepEqual(unknown, []);
});

test('docs/errors.md is written from the catalogue (npm run docs:errors)', () => {
  assert.equal(
    readFileSync(ERRORS_DOC_FILE, 'utf8'),
    errorsDocument(),
    'stale docs/errors.md: run npm run docs:errors',
  );
});
