/** OpenSanctions JSON lines that are JSON but not an entity (`null`, a number, an array) are a format error, not a crash. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { ListFormatError, parseOpenSanctions } from './aml.lists.parse.ts';

const file = (text: string) => ({ origin: 'test', open: () => Readable.from([Buffer.from(text)]) });

test('a JSON line that is not an object is refused as a list format error', async () => {
  for (const line of ['null', '42', '[1,2]', '"text"', '{"id":"x","schema":"Person","properties":null}']) {
    await assert.rejects(
      (async () => {
        for await (const _ of parseOpenSanctions(file(line))) {
        }
      })(),
      (error: unknown) => error instanceof ListFormatError,
      line,
    );
  }
  const entries = [];
  for await (const entry of parseOpenSanctions(
    file('{"id":"NK-1","schema":"Person","properties":{"name":["Jana Fiktivna"]}}\n'),
  ))
    entries.push(entry);
  assert.equal(entries.length, 1);
});
