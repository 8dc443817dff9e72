/**
 * Every PNG the API puts in JSON is a data URI (`data:image/png;base64,…`) that a client can show as it is: the
 * OpenAPI document says so for every such field, and the merchant QR code really is one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestContext } from '../helpers/app.ts';

type Schema = {
  type?: unknown;
  pattern?: string;
  properties?: Record<string, Schema>;
  [key: string]: unknown;
};

/** Every property named like a PNG (`…png…`) anywhere in the document, with where it was found. */
function pngFields(node: unknown, path: string, found: Array<{ path: string; schema: Schema }>): void {
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) pngFields(item, `${path}[${index}]`, found);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const schema = node as Schema;
  if (schema.properties && typeof schema.properties === 'object')
    for (const [name, property] of Object.entries(schema.properties))
      if (/png/i.test(name)) found.push({ path: `${path}.properties.${name}`, schema: property });
  for (const [key, value] of Object.entries(schema)) pngFields(value, `${path}.${key}`, found);
}

describe('PNG images in JSON', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t?.close());

  test('every PNG field of every response is documented as a data URI', async () => {
    const document = t.app.swagger() as unknown as { paths: Record<string, unknown> };
    const found: Array<{ path: string; schema: Schema }> = [];
    pngFields(document.paths, 'paths', found);
    const names = new Set(found.map((field) => field.path.split('.').at(-1)));
    assert.ok(found.length >= 2, `PNG fields found: ${found.map((field) => field.path).join(', ')}`);
    assert.ok(names.has('qr_png'));
    assert.ok(!names.has('png_base64'), 'no bare base64 PNG field is left');
    for (const field of found) {
      assert.equal(field.schema.type, 'string', field.path);
      assert.ok(
        field.schema.pattern?.startsWith('^data:image/png;base64,'),
        `${field.path}: ${field.schema.pattern}`,
      );
    }
  });
});
