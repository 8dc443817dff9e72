/**
 * Writes schema.ts, the client's types, from the committed OpenAPI document with openapi-typescript:
 * `npm run client:generate` (`npm run openapi:write` runs it too). test/e2e/client-schema.test.ts fails when the
 * committed schema.ts no longer matches openapi/openapi.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';

export const DOCUMENT_PATH = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));
export const SCHEMA_PATH = fileURLToPath(new URL('./schema.ts', import.meta.url));

const BLOB = ts.factory.createTypeReferenceNode('Blob');
const SOURCE_NOTE = '// From openapi/openapi.json: regenerate with `npm run client:generate`.\n\n';

/** The TypeScript text of schema.ts for an OpenAPI document's JSON text. */
export async function generateSchema(documentText: string): Promise<string> {
  const document = JSON.parse(documentText) as OpenAPI3;
  const ast = await openapiTS(document, {
    silent: true,
    // A file (`format: binary`: a multipart part, a PDF answer) is a Blob, not a string.
    transform: (schema) => ('format' in schema && schema.format === 'binary' ? BLOB : undefined),
  });
  return `${COMMENT_HEADER}${SOURCE_NOTE}${astToString(ast)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const schema = await generateSchema(readFileSync(DOCUMENT_PATH, 'utf8'));
  writeFileSync(SCHEMA_PATH, schema);
  process.stdout.write(`wrote ${SCHEMA_PATH} (${schema.length} bytes)\n`);
}
