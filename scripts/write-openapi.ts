/** Writes the committed OpenAPI document: `npm run openapi:write` after changing routes or schemas. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateOpenApiDocument, OPENAPI_PATH } from '../src/openapi.ts';

const document = await generateOpenApiDocument();
mkdirSync(dirname(OPENAPI_PATH), { recursive: true });
writeFileSync(OPENAPI_PATH, document);
process.stdout.write(`wrote ${OPENAPI_PATH} (${document.length} bytes)\n`);
