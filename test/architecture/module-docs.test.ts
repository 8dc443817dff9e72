import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ARCHITECTURE_FILE, withModuleMap } from '../../scripts/write-module-docs.ts';

test('docs/architecture.md shows the module map of src/modules.ts (npm run docs:modules)', () => {
  const committed = readFileSync(ARCHITECTURE_FILE, 'utf8');
  assert.equal(committed, withModuleMap(committed), 'stale module map: run npm run docs:modules');
});
