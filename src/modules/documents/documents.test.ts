/** Documents (RELIABILITY 23): hostile files refused, bytes encrypted at rest, tampering detected, owners only. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { multipart } from '../../../test/helpers/multipart.ts';
import { documentDirectory } from './documents.storage.ts';

const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_END = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const png = (middle = 'IHDR-pixels') => Buffer.concat([PNG_HEAD, Buffer.from(middle), PNG_END]);
const jpeg = (middle = 'JFIF-pixels') =>
  Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(middle), Buffer.from([0xff, 0xd9])]);
const pdf = (
  body = '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj 2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj',
) => Buffer.from(`%PDF-1.7\n${body}\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`);
/** An object stream holding `hidden` as object 3, compressed: the raw bytes show none of its names. */
const objectStreamPdf = (hidden: string) => {
  const compressed = deflateSync(Buffer.from(`3 0 ${hidden}`));
  return Buffer.concat([
    pdf().subarray(0, pdf().indexOf('trailer')),
    Buffer.from(
      `4 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${compressed.length} >>\nstream\n`,
    ),
    compressed,
    Buffer.from('\nendstream endobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
};
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const ZIP = Buffer.concat([
  Buffer.from([0x50, 0x4b, 0x03, 0x04]),
  Buffer.alloc(26),
  Buffer.from('word/document.xml'),
]);

const HOSTILE: [string, Buffer, string][] = [
  ['empty', Buffer.alloc(0), 'empty.pdf'],
  ['EICAR as text', Buffer.from(EICAR), 'eicar.txt'],
  ['EICAR named pdf', Buffer.from(EICAR), 'eicar.pdf'],
  ['EICAR inside a PDF', pdf(EICAR), 'clean.pdf'],
  [
    'SVG with script',
    Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    'id.svg',
  ],
  ['plain SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'), 'id.png'],
  ['HTML', Buffer.from('<!doctype html><html><body onload=alert(1)></body></html>'), 'id.jpg'],
  ['PHP', Buffer.from('<?php system($_GET["c"]); ?>'), 'id.pdf'],
  ['ZIP', ZIP, 'id.zip'],
  ['DOCX (a ZIP)', ZIP, 'id.docx'],
  ['gzip', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]), 'id.pdf'],
  ['Windows executable', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64)]), 'id.exe'],
  ['ELF binary', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(32)]), 'id.pdf'],
  ['shell script', Buffer.from('#!/bin/sh\nrm -rf /\n'), 'id.sh'],
  ['JPEG + ZIP polyglot', Buffer.concat([jpeg(), ZIP]), 'id.jpg'],
  [
    'JPEG with a trailing script',
    Buffer.concat([jpeg(), Buffer.from('<script>alert(1)</script>')]),
    'id.jpg',
  ],
  ['JPEG with markup inside', jpeg('<script>alert(1)</script>'), 'id.jpg'],
  ['truncated PNG', Buffer.concat([PNG_HEAD, Buffer.from('IHDR')]), 'id.png'],
  ['PNG + HTML polyglot', Buffer.concat([png(), Buffer.from('<html><script>x</script></html>')]), 'id.png'],
  ['PNG with an SVG inside', png('<svg onload=alert(1)>'), 'id.png'],
  ['PDF with JavaScript', pdf('<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>'), 'id.pdf'],
  ['PDF with a launch action', pdf('<< /A << /S /Launch /F (cmd.exe) >> >>'), 'id.pdf'],
  ['PDF with an embedded file', pdf('<< /Type /EmbeddedFile >>'), 'id.pdf'],
  [
    'PDF with escaped names',
    pdf('1 0 obj << /Type /Catalog /Open#41ction << /S /J#61vaScript /J#53 (app.alert(1)) >> >> endobj'),
    'id.pdf',
  ],
  [
    'PDF with JavaScript in an object stream',
    objectStreamPdf('<< /S /JavaScript /JS (app.alert(1)) >>'),
    'id.pdf',
  ],
  [
    'PDF with a launch action in an object stream',
    objectStreamPdf('<< /S /Launch /F (cmd.exe) >>'),
    'id.pdf',
  ],
  ['PDF without an end', Buffer.from('%PDF-1.7\n1 0 obj\n'), 'id.pdf'],
  ['PDF with data after its end', Buffer.concat([pdf(), Buffer.from('MZ-payload-after-eof')]), 'id.pdf'],
  ['GIF', Buffer.from('GIF89a\x01\x00\x01\x00'), 'id.gif'],
  ['BMP', Buffer.concat([Buffer.from('BM'), Buffer.alloc(40)]), 'id.bmp'],
  ['TIFF', Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]), 'id.tif'],
  ['text named jpg', Buffer.from('just some text'), 'photo.jpg'],
  ['JSON', Buffer.from('{"a":1}'), 'id.json'],
  [
    'XML with an entity bomb',
    Buffer.from('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa">]><a>&a;</a>'),
    'id.xml',
  ],
  ['RAR', Buffer.from('Rar!\x1a\x07\x00'), 'id.rar'],
  ['7z', Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]), 'id.7z'],
  ['path traversal name, text body', Buffer.from('root:x:0:0'), '../../../etc/passwd'],
];

describe('documents', () => {
  let t: TestContext;
  let aliceId: string;
  let bobId: string;
  let aliceToken: string;
  let bobToken: string;

  before(async () => {
    t = await startTestApp({ DOCUMENT_MAX_BYTES: '65536' });
    const customer = async (phone: string) => {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/add',
        headers: bearer(t.adminToken),
        payload: { first_name: 'Doc', last_name: 'Owner', phone },
      });
      const id = created.json().id as string;
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/credentials/pin',
        headers: bearer(t.adminToken),
        payload: { customer_id: id, pin: '7391' },
      });
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/customer/login',
        payload: { phone, pin: '7391' },
      });
      return { id, token: login.json().access_token as string };
    };
    ({ id: aliceId, token: aliceToken } = await customer('+254730000001'));
    ({ id: bobId, token: bobToken } = await customer('+254730000002'));
  });
  after(async () => t.close());

  const upload = (
    file: Buffer,
    filename: string,
    token = aliceToken,
    customerId = aliceId,
    type = 'national_id',
  ) => {
    const body = multipart({ customer_id: customerId, document_type: type }, file, filename);
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/upload',
      headers: { ...bearer(token), ...body.headers },
      payload: body.payload,
    });
  };

  test(`${HOSTILE.length} hostile files are all refused, and nothing is stored`, async () => {
    assert.ok(HOSTILE.length >= 30);
    for (const [name, file, filename] of HOSTILE) {
      const response = await upload(file, filename);
      assert.equal(response.statusCode, 422, `${name} was not refused: ${response.body}`);
      assert.equal(response.json().error_code, 'DOCUMENT_REJECTED', name);
    }
    const stored = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from documents`,
    )) as unknown as { rows: { n: number }[] };
    assert.equal(stored.rows[0]!.n, 0);
  });

  test('an oversized file is a 413; a request that is not multipart a 415', async () => {
    const big = await upload(pdf('x'.repeat(70_000)), 'big.pdf');
    assert.equal(big.statusCode, 413);
    const json = await t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/upload',
      headers: bearer(aliceToken),
      payload: { customer_id: aliceId },
    });
    assert.equal(json.statusCode, 415);
  });

  test('a clean PDF is stored encrypted, served back as an attachment, and tampering is detected', async () => {
    const original = pdf();
    const uploaded = await upload(original, 'my id card.pdf');
    assert.equal(uploaded.statusCode, 201, uploaded.body);
    const document = uploaded.json();
    assert.deepEqual(
      [document.mime_type, document.status, document.size_bytes],
      ['application/pdf', 'uploaded', original.length],
    );

    const path = join(documentDirectory(t.config.DATA_DIR), document.id.slice(-2), `${document.id}.bin`);
    const atRest = await readFile(path);
    assert.ok(!atRest.includes('%PDF'), 'the bytes at rest are ciphertext');

    const download = await t.app.inject({
      method: 'GET',
      url: `/api/v1/document/document/${document.id}/download`,
      headers: bearer(aliceToken),
    });
    assert.equal(download.statusCode, 200);
    assert.ok(download.rawPayload.equals(original));
    assert.match(String(download.headers['content-disposition']), /^attachment; filename="national_id-/);
    assert.equal(download.headers['x-content-type-options'], 'nosniff');
    assert.equal(download.headers['content-type'], 'application/pdf');

    const flipped = Buffer.from(atRest);
    flipped[flipped.length - 5] = flipped[flipped.length - 5] === 0x41 ? 0x42 : 0x41;
    await writeFile(path, flipped);
    const tampered = await t.app.inject({
      method: 'GET',
      url: `/api/v1/document/document/${document.id}/download`,
      headers: bearer(aliceToken),
    });
    assert.equal(tampered.statusCode, 409);
    assert.equal(tampered.json().error_code, 'DOCUMENT_INTEGRITY');
    await writeFile(path, atRest);
  });

  test('other customers get 404 for documents and uploads that are not theirs', async () => {
    const mine = (await upload(png(), 'selfie.png', aliceToken, aliceId, 'selfie')).json();
    for (const url of [
      `/api/v1/document/document/${mine.id}`,
      `/api/v1/document/document/${mine.id}/download`,
      `/api/v1/document/document?customer_id=${aliceId}`,
    ]) {
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(bobToken) });
      assert.equal(response.statusCode, 404, url);
    }
    const forBob = await upload(png(), 'x.png', aliceToken, bobId, 'selfie');
    assert.equal(forBob.statusCode, 404);
    const staff = await t.app.inject({
      method: 'GET',
      url: `/api/v1/document/document/${mine.id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(staff.statusCode, 200);
  });

  test('verified documents tick the KYC checklist', async () => {
    const list = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/document/document?customer_id=${aliceId}`,
        headers: bearer(aliceToken),
      })
    ).json().items as { id: string; document_type: string }[];
    for (const document of list) {
      const reviewed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/document/document/review',
        headers: bearer(t.adminToken),
        payload: { document_id: document.id, decision: 'verified' },
      });
      assert.equal(reviewed.statusCode, 200, reviewed.body);
    }
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/review',
      headers: bearer(t.adminToken),
      payload: { document_id: list[0]!.id, decision: 'rejected', reason: 'changed my mind' },
    });
    assert.equal(again.statusCode, 409, 'a decided document is not reviewed twice');
    const customerReview = await t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/review',
      headers: bearer(aliceToken),
      payload: { document_id: list[0]!.id, decision: 'verified' },
    });
    assert.equal(customerReview.statusCode, 403);
    const kyc = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/initiate',
      headers: bearer(aliceToken),
      payload: { customer_id: aliceId, target_tier: 'standard' },
    });
    const documents = kyc.json().checklist.filter((item: { kind: string }) => item.kind === 'document');
    assert.deepEqual(
      documents.map((item: { code: string; satisfied: boolean }) => [item.code, item.satisfied]),
      [
        ['national_id', true],
        ['selfie', true],
      ],
    );
  });
});
