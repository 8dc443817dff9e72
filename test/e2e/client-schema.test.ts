/** The typed client's committed types must match the OpenAPI document; regenerate with `npm run client:generate`. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DOCUMENT_PATH, generateSchema, SCHEMA_PATH } from '../../clients/typescript/generate.ts';

test('clients/typescript/schema.ts is up to date with openapi/openapi.json', async () => {
  const generated = await generateSchema(readFileSync(DOCUMENT_PATH, 'utf8'));
  const committed = readFileSync(SCHEMA_PATH, 'utf8');
  assert.ok(
    generated === committed,
    'clients/typescript/schema.ts drifted from openapi/openapi.json: run `npm run client:generate` and commit it',
  );
});

test('the generator writes what the document declares (a small document)', async () => {
  const document = {
    openapi: '3.1.0',
    info: { title: 'probe', version: '1' },
    paths: {
      '/api/v1/drift-probe': {
        get: {
          operationId: 'driftProbe',
          responses: {
            '200': {
              description: 'The probe',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['probe_id'],
                    properties: { probe_id: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
  const schema = await generateSchema(JSON.stringify(document));
  assert.match(schema, /"\/api\/v1\/drift-probe": \{/);
  assert.match(schema, /driftProbe: \{/);
  assert.match(schema, /probe_id: string;/);
});
