/**
 * The SendGrid client against a local fake of Mail Send v3 (exact request, 202 mapping, error mapping), and the
 * Event Webhook signature check and event parsing against batches signed the way SendGrid signs them.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  type FakeSendGrid,
  type SendGridWebhookEvent,
  startFakeSendGrid,
} from '../../../test/fakes/sendgrid.ts';
import { ProviderError } from '../ports.ts';
import { SendGridEmailClient, type SendGridEmailClientOptions } from './sendgrid.client.ts';
import {
  isSendGridEventFor,
  parseSendGridEvents,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  verifySendGridSignature,
} from './sendgrid.webhook.ts';

const API_KEY = 'SG.test-key.abcdefghijklmnop';

function isProviderError(expected: {
  code: string;
  retryable: boolean;
  httpStatus?: number;
  message?: string;
  retryAfterSeconds?: number;
}) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.provider, 'sendgrid');
    assert.equal(error.code, expected.code);
    assert.equal(error.retryable, expected.retryable);
    if (expected.httpStatus !== undefined) assert.equal(error.httpStatus, expected.httpStatus);
    if (expected.message !== undefined) assert.equal(error.message, expected.message);
    if ('retryAfterSeconds' in expected) assert.equal(error.retryAfterSeconds, expected.retryAfterSeconds);
    return true;
  };
}

describe('SendGridEmailClient', () => {
  let fake: FakeSendGrid;

  function client(overrides: Partial<SendGridEmailClientOptions> = {}): SendGridEmailClient {
    return new SendGridEmailClient({
      baseUrl: fake.url,
      apiKey: API_KEY,
      from: 'no-reply@bank.example',
      fromName: 'Codeforge Bank',
      timeoutMs: 2_000,
      ...overrides,
    });
  }

  before(async () => {
    fake = await startFakeSendGrid({ apiKey: API_KEY });
  });

  beforeEach(() => {
    fake.requests.length = 0;
    fake.messages.length = 0;
  });

  after(() => fake.close());

  test('posts exactly the documented body and maps the 202', async () => {
    const result = await client({ baseUrl: `${fake.url}/` }).send({
      to: 'wanjiku@example.com',
      toName: 'Wanjiku Otieno',
      subject: 'Debit alert',
      text: 'You paid KES 500.00',
      html: '<p>You paid <b>KES 500.00</b></p>',
    });

    assert.equal(fake.requests.length, 1);
    const [request] = fake.requests;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v3/mail/send');
    assert.equal(request.headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request.text), {
      personalizations: [{ to: [{ email: 'wanjiku@example.com', name: 'Wanjiku Otieno' }] }],
      from: { email: 'no-reply@bank.example', name: 'Codeforge Bank' },
      subject: 'Debit alert',
      content: [
        { type: 'text/plain', value: 'You paid KES 500.00' },
        { type: 'text/html', value: '<p>You paid <b>KES 500.00</b></p>' },
      ],
    });
    const accepted = fake.messages[0];
    assert.ok(accepted);
    assert.deepEqual(result, {
      provider: 'sendgrid',
      providerMessageId: accepted.messageId,
      providerStatus: '202',
    });
    assert.match(result.providerMessageId, /^[\w-]{22}$/);
  });

  test('a text-only message has one text/plain block and no recipient name', async () => {
    await client().send({ to: 'otieno@example.com', subject: 'OTP', text: 'Your code is 482913' });
    const body = JSON.parse(fake.requests[0]?.text ?? '{}');
    assert.deepEqual(body.personalizations, [{ to: [{ email: 'otieno@example.com' }] }]);
    assert.deepEqual(body.content, [{ type: 'text/plain', value: 'Your code is 482913' }]);
  });

  test('line breaks in the subject and names are flattened', async () => {
    await client({ fromName: 'Bank\r\nBcc: x@evil.example' }).send({
      to: 'a@example.com',
      toName: 'A\nB',
      subject: 'Hello\r\nBcc: thief@evil.example',
      text: 'x',
    });
    const body = JSON.parse(fake.requests[0]?.text ?? '{}');
    assert.equal(body.subject, 'Hello Bcc: thief@evil.example');
    assert.equal(body.from.name, 'Bank Bcc: x@evil.example');
    assert.equal(body.personalizations[0].to[0].name, 'A B');
  });

  test('a wrong API key is a permanent 401 with SendGrid’s message', async () => {
    await assert.rejects(
      client({ apiKey: 'SG.wrong' }).send({ to: 'a@example.com', subject: 's', text: 't' }),
      isProviderError({
        code: 'HTTP 401',
        retryable: false,
        httpStatus: 401,
        message: 'The provided authorization grant is invalid, expired, or revoked',
      }),
    );
  });

  test('a validation refusal is a permanent 400 with the first error message', async () => {
    await assert.rejects(
      client().send({ to: 'not-an-address', subject: 's', text: 't' }),
      isProviderError({
        code: 'HTTP 400',
        retryable: false,
        httpStatus: 400,
        message: 'Does not contain a valid address.',
      }),
    );
    await assert.rejects(
      client().send({ to: 'a@example.com', subject: 's', text: '' }),
      isProviderError({
        code: 'HTTP 400',
        retryable: false,
        message: 'The content value must be a string at least one character in length.',
      }),
    );
    assert.equal(fake.messages.length, 0);
  });

  for (const status of [403, 413]) {
    test(`${status} is permanent`, async () => {
      fake.failNext(1, { status, message: `refused ${status}` });
      await assert.rejects(
        client().send({ to: 'a@example.com', subject: 's', text: 't' }),
        isProviderError({ code: `HTTP ${status}`, retryable: false, message: `refused ${status}` }),
      );
    });
  }

  test('429 is retryable and honours Retry-After', async () => {
    fake.failNext(1, { status: 429, message: 'too many requests', retryAfter: 17 });
    await assert.rejects(
      client().send({ to: 'a@example.com', subject: 's', text: 't' }),
      isProviderError({ code: 'HTTP 429', retryable: true, httpStatus: 429, retryAfterSeconds: 17 }),
    );
  });

  test('5xx is retryable, and the next attempt goes through', async () => {
    fake.failNext(1, { status: 503, message: 'Service Unavailable' });
    const sendgrid = client();
    await assert.rejects(
      sendgrid.send({ to: 'a@example.com', subject: 's', text: 't' }),
      isProviderError({ code: 'HTTP 503', retryable: true, retryAfterSeconds: undefined }),
    );
    const result = await sendgrid.send({ to: 'a@example.com', subject: 's', text: 't' });
    assert.equal(result.providerStatus, '202');
  });

  test('an unreachable host is a retryable network failure', async () => {
    const gone = await startFakeSendGrid({ apiKey: API_KEY });
    await gone.close();
    await assert.rejects(
      client({ baseUrl: gone.url }).send({ to: 'a@example.com', subject: 's', text: 't' }),
      isProviderError({ code: 'NETWORK', retryable: true }),
    );
  });

  test('a server that does not answer in time is a retryable timeout', async () => {
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      await assert.rejects(
        client({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 100 }).send({
          to: 'a@example.com',
          subject: 's',
          text: 't',
        }),
        isProviderError({ code: 'TIMEOUT', retryable: true }),
      );
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});

describe('SendGrid event webhook', () => {
  let fake: FakeSendGrid;
  const events: SendGridWebhookEvent[] = [
    {
      email: 'wanjiku@example.com',
      timestamp: 1_780_000_000,
      event: 'processed',
      sg_event_id: 'rbtnWrG1DVDGGGFHFyun0A',
      sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000',
      'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
      category: ['alerts'],
    },
    {
      email: 'wanjiku@example.com',
      timestamp: 1_780_000_003,
      event: 'delivered',
      sg_event_id: 'rWVYmVk90MjZJ9iohOBa3w',
      sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000',
      response: '250 OK',
    },
  ];

  before(async () => {
    fake = await startFakeSendGrid({ apiKey: API_KEY });
  });

  after(() => fake.close());

  function headersOf(signed: { headers: Record<string, string> }): { signature: string; timestamp: string } {
    const signature = signed.headers['X-Twilio-Email-Event-Webhook-Signature'];
    const timestamp = signed.headers['X-Twilio-Email-Event-Webhook-Timestamp'];
    assert.ok(signature && timestamp);
    return { signature, timestamp };
  }

  test('accepts a batch signed by SendGrid, as string or Buffer', () => {
    const signed = fake.signEvents(events);
    const { signature, timestamp } = headersOf(signed);
    assert.equal(verifySendGridSignature(fake.publicKeyBase64, signed.body, signature, timestamp), true);
    assert.equal(
      verifySendGridSignature(fake.publicKeyBase64, Buffer.from(signed.body), signature, timestamp),
      true,
    );
  });

  test('rejects a tampered body', () => {
    const signed = fake.signEvents(events, { tamper: true });
    const { signature, timestamp } = headersOf(signed);
    assert.equal(verifySendGridSignature(fake.publicKeyBase64, signed.body, signature, timestamp), false);
  });

  test('rejects another key', () => {
    const signed = fake.signEvents(events);
    const { signature, timestamp } = headersOf(signed);
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ format: 'der', type: 'spki' })
      .toString('base64');
    assert.equal(verifySendGridSignature(other, signed.body, signature, timestamp), false);
  });

  test('rejects a timestamp more than 300 s away, in either direction', () => {
    for (const offset of [-301, 301]) {
      const signed = fake.signEvents(events, { timestampOffsetSeconds: offset });
      const { signature, timestamp } = headersOf(signed);
      assert.equal(
        verifySendGridSignature(fake.publicKeyBase64, signed.body, signature, timestamp),
        false,
        `offset ${offset}`,
      );
    }
    for (const offset of [-290, 290]) {
      const signed = fake.signEvents(events, { timestampOffsetSeconds: offset });
      const { signature, timestamp } = headersOf(signed);
      assert.equal(
        verifySendGridSignature(fake.publicKeyBase64, signed.body, signature, timestamp),
        true,
        `offset ${offset}`,
      );
    }
  });

  test('the timestamp is checked against the given clock and tolerance', () => {
    const signed = fake.signEvents(events);
    const { signature, timestamp } = headersOf(signed);
    const signedAtMs = Number(timestamp) * 1000;
    const verifyAt = (nowMs: number, tolerance?: number) =>
      verifySendGridSignature(fake.publicKeyBase64, signed.body, signature, timestamp, nowMs, tolerance);
    assert.equal(verifyAt(signedAtMs + 300_000), true);
    assert.equal(verifyAt(signedAtMs + 301_000), false);
    assert.equal(verifyAt(signedAtMs + 301_000, 600), true);
  });

  test('rejects a body that was parsed and serialised again', () => {
    const signed = fake.signEvents(events);
    const { signature, timestamp } = headersOf(signed);
    const reserialised = JSON.stringify(JSON.parse(signed.body));
    assert.notEqual(reserialised, signed.body);
    assert.equal(verifySendGridSignature(fake.publicKeyBase64, reserialised, signature, timestamp), false);
  });

  test('never throws on malformed input', () => {
    const signed = fake.signEvents(events);
    const { signature, timestamp } = headersOf(signed);
    const cases: Array<[string, string, string]> = [
      ['not base64!', signature, timestamp],
      ['', signature, timestamp],
      [Buffer.from('garbage').toString('base64'), signature, timestamp],
      [fake.publicKeyBase64, 'not a signature', timestamp],
      [fake.publicKeyBase64, '', timestamp],
      [fake.publicKeyBase64, Buffer.from('short').toString('base64'), timestamp],
      [fake.publicKeyBase64, signature, ''],
      [fake.publicKeyBase64, signature, 'yesterday'],
      [fake.publicKeyBase64, signature, `${timestamp}.5`],
    ];
    for (const [key, sig, ts] of cases) {
      assert.equal(verifySendGridSignature(key, signed.body, sig, ts), false, `${key} ${sig} ${ts}`);
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ format: 'der', type: 'spki' })
      .toString('base64');
    assert.equal(verifySendGridSignature(rsa, signed.body, signature, timestamp), false);
    const unsafe = verifySendGridSignature as (...args: unknown[]) => boolean;
    assert.equal(unsafe(undefined, undefined, undefined, undefined), false);
    assert.equal(unsafe(fake.publicKeyBase64, 42, signature, timestamp), false);
  });

  test('postEvents delivers a signed batch a receiver can verify', async () => {
    const seen: Array<{ valid: boolean; events: number }> = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const valid = verifySendGridSignature(
          fake.publicKeyBase64,
          raw,
          String(request.headers[SENDGRID_SIGNATURE_HEADER] ?? ''),
          String(request.headers[SENDGRID_TIMESTAMP_HEADER] ?? ''),
        );
        seen.push({ valid, events: valid ? parseSendGridEvents(raw).length : 0 });
        response.writeHead(valid ? 204 : 403).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    const callbackUrl = `http://127.0.0.1:${port}/webhooks/sendgrid`;
    try {
      assert.equal(await fake.postEvents(callbackUrl, events), 204);
      assert.equal(await fake.postEvents(callbackUrl, events, { tamper: true }), 403);
      assert.equal(await fake.postEvents(callbackUrl, events, { timestampOffsetSeconds: -301 }), 403);
      assert.deepEqual(seen, [
        { valid: true, events: 2 },
        { valid: false, events: 0 },
        { valid: false, events: 0 },
      ]);
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  test('parses events and drops malformed ones', () => {
    const parsed = parseSendGridEvents([
      ...events,
      {
        email: 'x@example.com',
        timestamp: '1780000000',
        event: 'open',
        sg_event_id: 'a',
        sg_message_id: 'b',
      },
      {
        email: 'x@example.com',
        timestamp: 1_780_000_000,
        event: 'teleported',
        sg_event_id: 'a',
        sg_message_id: 'b',
      },
      { email: 'x@example.com', timestamp: 1_780_000_000, event: 'bounce', sg_message_id: 'b' },
      { timestamp: 1_780_000_000, event: 'bounce', sg_event_id: 'a', sg_message_id: 'b' },
      null,
      'processed',
      [],
    ]);
    assert.deepEqual(parsed, [
      {
        email: 'wanjiku@example.com',
        timestamp: 1_780_000_000,
        event: 'processed',
        sg_event_id: 'rbtnWrG1DVDGGGFHFyun0A',
        sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000',
      },
      {
        email: 'wanjiku@example.com',
        timestamp: 1_780_000_003,
        event: 'delivered',
        sg_event_id: 'rWVYmVk90MjZJ9iohOBa3w',
        sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000',
      },
    ]);
    assert.deepEqual(parseSendGridEvents(fake.signEvents(events).body), parsed);
    assert.deepEqual(parseSendGridEvents({ events }), []);
    assert.deepEqual(parseSendGridEvents('not json'), []);
    const sgMessageId = parsed[0]?.sg_message_id ?? '';
    assert.equal(isSendGridEventFor(sgMessageId, '14c5d75ce93.dfd.64b469'), true);
    assert.equal(isSendGridEventFor(sgMessageId, '14c5d75ce9'), false);
    assert.equal(
      isSendGridEventFor(
        'BwUqmgK4R2eJVpfw3Z8iCA.filterdrecv-p3mdw1-18-5F5FC76C-9.0',
        'BwUqmgK4R2eJVpfw3Z8iCA',
      ),
      true,
    );
    assert.equal(isSendGridEventFor(sgMessageId, ''), false);
  });
});
