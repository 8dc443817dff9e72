/** The committed OpenAPI document must match the code; regenerate with `npm run openapi:write`. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generateOpenApiDocument, OPENAPI_PATH } from '../../src/openapi.ts';

test('openapi/openapi.json is up to date with the routes and schemas', async () => {
  const generated = await generateOpenApiDocument();
  const committed = readFileSync(OPENAPI_PATH, 'utf8');
  assert.ok(
    generated === committed,
    'openapi/openapi.json drifted from the code: run `npm run openapi:write` and commit the result',
  );
});
