/**
 * The Twilio SMS client against a local fake speaking Twilio's wire format: the request as Twilio expects it,
 * the 201 mapping, each class of failure as a ProviderError, and signed status callbacks.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type FakeTwilio, startFakeTwilio, type TwilioRecordedRequest } from '../../../test/fakes/twilio.ts';
import { ProviderError } from '../ports.ts';
import { TwilioSmsClient, type TwilioSmsClientOptions } from './twilio.client.ts';
import { verifyTwilioSignature } from './twilio.signature.ts';

const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const AUTH_TOKEN = 'f00dbabe5ec12e7f00dbabe5ec12e7aa';
const FROM = '+15005550006';
const SERVICE_SID = `MG${'0b'.repeat(16)}`;
const TO = '+254712345678';

let fake: FakeTwilio;

function client(overrides: Partial<TwilioSmsClientOptions> = {}): TwilioSmsClient {
  return new TwilioSmsClient({
    baseUrl: fake.url,
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    from: FROM,
    timeoutMs: 2_000,
    ...overrides,
  });
}

function lastRequest(): TwilioRecordedRequest {
  const request = fake.requests.at(-1);
  assert.ok(request, 'the fake received no request');
  return request;
}

function providerError(expected: {
  code: string;
  retryable: boolean;
  httpStatus?: number;
  retryAfterSeconds?: number;
}) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.provider, 'twilio');
    assert.equal(error.code, expected.code);
    assert.equal(error.retryable, expected.retryable);
    assert.equal(error.httpStatus, expected.httpStatus);
    assert.equal(error.retryAfterSeconds, expected.retryAfterSeconds);
    assert.equal(error.addressGone, false);
    assert.ok(!error.message.includes(AUTH_TOKEN), 'the auth token leaked into the message');
    assert.ok(!(error.stack ?? '').includes(AUTH_TOKEN), 'the auth token leaked into the stack');
    return true;
  };
}

before(async () => {
  fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
});

after(() => fake.close());

beforeEach(() => {
  fake.requests.length = 0;
  fake.messages.length = 0;
  fake.setDelay(0);
});

describe('TwilioSmsClient request', () => {
  test('POSTs the form to the account Messages resource with Basic auth', async () => {
    await client().send({
      to: TO,
      body: 'Your code is 123456',
      statusCallbackUrl: 'https://hooks.example/sms/twilio',
    });
    const request = lastRequest();
    assert.equal(request.method, 'POST');
    assert.equal(request.path, `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    assert.equal(
      request.headers.authorization,
      `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
    );
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(request.headers.accept, 'application/json');
    assert.deepEqual(request.form, {
      To: TO,
      From: FROM,
      Body: 'Your code is 123456',
      StatusCallback: 'https://hooks.example/sms/twilio',
    });
  });

  test('leaves StatusCallback out when none is given', async () => {
    await client().send({ to: TO, body: 'hello' });
    assert.deepEqual(lastRequest().form, { To: TO, From: FROM, Body: 'hello' });
  });

  test('sends MessagingServiceSid instead of From when configured with a Messaging Service', async () => {
    const result = await client({ from: undefined, messagingServiceSid: SERVICE_SID }).send({
      to: TO,
      body: 'hi',
    });
    assert.deepEqual(lastRequest().form, { To: TO, MessagingServiceSid: SERVICE_SID, Body: 'hi' });
    assert.equal(result.providerStatus, 'accepted');
  });

  test('form-encodes a body with reserved characters, accents and emoji intact', async () => {
    const body = 'Paid KES 1,000 & fee 0+10=10% — merci é 😀\nline two';
    await client().send({ to: TO, body });
    assert.equal(lastRequest().form.Body, body);
    assert.equal(fake.messages[0]?.body, body);
  });

  test('needs exactly one of from and messagingServiceSid', () => {
    assert.throws(() => client({ from: undefined }), RangeError);
    assert.throws(() => client({ messagingServiceSid: SERVICE_SID }), RangeError);
  });
});

describe('TwilioSmsClient success', () => {
  test("maps the 201 resource: sid, Twilio's status and num_segments as a number", async () => {
    const result = await client().send({ to: TO, body: 'x'.repeat(161) });
    const message = fake.messages[0];
    assert.ok(message);
    assert.match(message.sid, /^SM[0-9a-f]{32}$/);
    assert.deepEqual(result, {
      provider: 'twilio',
      providerMessageId: message.sid,
      providerStatus: 'queued',
      segments: 2,
    });
  });

  test('a single-segment message reports 1 segment', async () => {
    const result = await client().send({ to: TO, body: 'short' });
    assert.equal(result.segments, 1);
  });
});

describe('TwilioSmsClient errors', () => {
  test('an invalid To is 21211, not retryable', async () => {
    await assert.rejects(
      client().send({ to: '0712345678', body: 'hi' }),
      providerError({ code: '21211', retryable: false, httpStatus: 400 }),
    );
    assert.equal(fake.messages.length, 0);
  });

  test('a wrong auth token is 20003, not retryable, and the token is not in the error', async () => {
    const wrongToken = 'not-the-token-0123456789abcdef00';
    await assert.rejects(client({ authToken: wrongToken }).send({ to: TO, body: 'hi' }), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.code, '20003');
      assert.equal(error.retryable, false);
      assert.equal(error.httpStatus, 401);
      assert.ok(!error.message.includes(wrongToken));
      return true;
    });
  });

  test('another 4xx carries its code and is not retryable', async () => {
    fake.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    await assert.rejects(
      client().send({ to: TO, body: 'hi' }),
      providerError({ code: '21610', retryable: false, httpStatus: 400 }),
    );
  });

  test('a 429 is retryable and honours Retry-After in seconds', async () => {
    fake.failNext(1, { status: 429, code: 20429, message: 'Too Many Requests', retryAfter: 7 });
    await assert.rejects(
      client().send({ to: TO, body: 'hi' }),
      providerError({ code: '20429', retryable: true, httpStatus: 429, retryAfterSeconds: 7 }),
    );
  });

  test('a Retry-After given as an HTTP date becomes seconds from now', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    fake.failNext(1, { status: 503, code: 20503, message: 'Service Unavailable', retryAfter: at });
    await assert.rejects(client().send({ to: TO, body: 'hi' }), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.retryable, true);
      assert.ok(
        error.retryAfterSeconds !== undefined &&
          error.retryAfterSeconds >= 28 &&
          error.retryAfterSeconds <= 30,
        `retryAfterSeconds ${error.retryAfterSeconds}`,
      );
      return true;
    });
  });

  test('a 500 is retryable with its code; the next attempt succeeds', async () => {
    fake.failNext(1, { status: 500, code: 20500, message: 'Internal Server Error' });
    await assert.rejects(
      client().send({ to: TO, body: 'hi' }),
      providerError({ code: '20500', retryable: true, httpStatus: 500 }),
    );
    const result = await client().send({ to: TO, body: 'hi' });
    assert.equal(result.providerStatus, 'queued');
  });

  test('an unreachable Twilio is NETWORK, retryable', async () => {
    const gone = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const baseUrl = gone.url;
    await gone.close();
    await assert.rejects(
      client({ baseUrl }).send({ to: TO, body: 'hi' }),
      providerError({ code: 'NETWORK', retryable: true }),
    );
  });

  test('no answer within timeoutMs is TIMEOUT, retryable, though Twilio may still accept it', async () => {
    fake.setDelay(300);
    await assert.rejects(
      client({ timeoutMs: 100 }).send({ to: TO, body: 'hi' }),
      providerError({ code: 'TIMEOUT', retryable: true }),
    );
    // The outcome of a timeout is unknown: the late request is still processed (a retry may duplicate it).
    await waitFor(() => fake.messages.length === 1);
  });
});

describe('status callbacks from the fake', () => {
  let receiver: Server;
  let callbackBase: string;
  const received: { url: string; params: Record<string, string>; valid: boolean }[] = [];

  before(async () => {
    receiver = createServer((request, response) => {
      readForm(request).then((params) => {
        // The full URL Twilio posted to: this receiver's own origin plus path and query.
        const url = `${callbackBase}${request.url ?? ''}`;
        const valid = verifyTwilioSignature(AUTH_TOKEN, url, params, request.headers['x-twilio-signature']);
        received.push({ url, params, valid });
        response.writeHead(valid ? 204 : 403).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  after(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  beforeEach(() => {
    received.length = 0;
  });

  test('are signed over the callback URL (query included) and verify; at-least-once repeats verify too', async () => {
    const statusCallbackUrl = `${callbackBase}/hooks/sms/twilio?tenant=ke&n=1`;
    await client().send({ to: TO, body: 'hi', statusCallbackUrl });
    const message = fake.messages[0];
    assert.ok(message);
    assert.equal(await fake.sendStatusCallback(message, 'delivered'), 204);
    assert.equal(await fake.sendStatusCallback(message, 'delivered'), 204);
    assert.equal(received.length, 2);
    assert.deepEqual(received[0]?.params, {
      MessageSid: message.sid,
      SmsSid: message.sid,
      MessageStatus: 'delivered',
      SmsStatus: 'delivered',
      AccountSid: ACCOUNT_SID,
      From: FROM,
      To: TO,
      ApiVersion: '2010-04-01',
    });
    assert.equal(received[0]?.url, statusCallbackUrl);
  });

  test('carry ErrorCode when undelivered, and extra fields stay covered by the signature', async () => {
    await client().send({ to: TO, body: 'hi', statusCallbackUrl: `${callbackBase}/hooks/sms/twilio` });
    const message = fake.messages[0];
    assert.ok(message);
    const status = await fake.sendStatusCallback(message, 'undelivered', {
      errorCode: 30003,
      params: { RawDlrDoneDate: '2601011200' },
    });
    assert.equal(status, 204);
    assert.equal(received[0]?.params.ErrorCode, '30003');
    assert.equal(received[0]?.params.RawDlrDoneDate, '2601011200');
  });

  test('with a wrong or missing signature fail verification', async () => {
    await client().send({ to: TO, body: 'hi', statusCallbackUrl: `${callbackBase}/hooks/sms/twilio` });
    const message = fake.messages[0];
    assert.ok(message);
    assert.equal(
      await fake.sendStatusCallback(message, 'sent', { signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }),
      403,
    );
    assert.equal(await fake.sendStatusCallback(message, 'sent', { signature: null }), 403);
    assert.deepEqual(
      received.map((entry) => entry.valid),
      [false, false],
    );
  });
});

async function readForm(request: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, 'condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
