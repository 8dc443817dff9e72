/**
 * The Africa's Talking SMS client against a local fake speaking AT's wire format: the request as AT expects it,
 * the recipient mapping with locally counted segments, each recipient statusCode and HTTP failure as a
 * ProviderError, and the fake's delivery reports.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  type AtRecordedRequest,
  type FakeAfricasTalking,
  startFakeAfricasTalking,
} from '../../../test/fakes/africastalking.ts';
import { ProviderError } from '../ports.ts';
import { AfricasTalkingSmsClient, type AfricasTalkingSmsClientOptions } from './africastalking.client.ts';

const USERNAME = 'codeforge';
const API_KEY = 'atsk_5f0c3a9e2b7d4c1a8e6f0b3d9c2a7e4f1b8d6c3a';
const TO = '+254712345678';

let fake: FakeAfricasTalking;

function client(overrides: Partial<AfricasTalkingSmsClientOptions> = {}): AfricasTalkingSmsClient {
  return new AfricasTalkingSmsClient({
    baseUrl: fake.url,
    username: USERNAME,
    apiKey: API_KEY,
    senderId: 'CODEFORGE',
    timeoutMs: 2_000,
    ...overrides,
  });
}

function lastRequest(): AtRecordedRequest {
  const request = fake.requests.at(-1);
  assert.ok(request, 'the fake received no request');
  return request;
}

function providerError(expected: {
  code: string;
  retryable: boolean;
  httpStatus?: number;
  retryAfterSeconds?: number;
  message?: RegExp;
}) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.provider, 'africastalking');
    assert.equal(error.code, expected.code);
    assert.equal(error.retryable, expected.retryable);
    assert.equal(error.httpStatus, expected.httpStatus);
    assert.equal(error.retryAfterSeconds, expected.retryAfterSeconds);
    if (expected.message) assert.match(error.message, expected.message);
    assert.ok(!error.message.includes(API_KEY), 'the API key leaked into the message');
    return true;
  };
}

before(async () => {
  fake = await startFakeAfricasTalking({ username: USERNAME, apiKey: API_KEY });
});

after(() => fake.close());

beforeEach(() => {
  fake.requests.length = 0;
  fake.messages.length = 0;
  fake.setDelay(0);
});

describe('AfricasTalkingSmsClient request', () => {
  test('POSTs the form to /version1/messaging with the apiKey and Accept headers', async () => {
    await client().send({ to: TO, body: 'Your code is 123456' });
    const request = lastRequest();
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/version1/messaging');
    assert.equal(request.headers.apikey, API_KEY);
    assert.equal(request.headers.accept, 'application/json');
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(request.headers.authorization, undefined);
    assert.deepEqual(request.form, {
      username: USERNAME,
      to: TO,
      message: 'Your code is 123456',
      from: 'CODEFORGE',
    });
  });

  test('leaves from out without a sender id, and ignores statusCallbackUrl (AT callbacks are per account)', async () => {
    await client({ senderId: undefined }).send({
      to: TO,
      body: 'hello',
      statusCallbackUrl: 'https://hooks.example/sms/at',
    });
    assert.deepEqual(lastRequest().form, { username: USERNAME, to: TO, message: 'hello' });
  });

  test('form-encodes a body with reserved characters, accents and emoji intact', async () => {
    const body = 'Paid KES 1,000 & fee 0+10=10% — merci é 😀\nline two';
    await client().send({ to: TO, body });
    assert.equal(fake.messages[0]?.message, body);
  });
});

describe('AfricasTalkingSmsClient success', () => {
  test('maps the recipient: messageId, AT status word, segments counted locally', async () => {
    const result = await client().send({ to: TO, body: 'x'.repeat(161) });
    const message = fake.messages[0];
    assert.ok(message);
    assert.match(message.messageId, /^ATXid_[0-9a-f]+$/);
    assert.deepEqual(result, {
      provider: 'africastalking',
      providerMessageId: message.messageId,
      providerStatus: 'Success',
      segments: 2,
    });
  });

  test('a UCS-2 body is counted at 70 units per single segment', async () => {
    assert.equal((await client().send({ to: TO, body: `😀${'a'.repeat(68)}` })).segments, 1);
    assert.equal((await client().send({ to: TO, body: `😀${'a'.repeat(69)}` })).segments, 2);
  });

  test('statusCode 100 Processed and 102 Queued are successes too', async () => {
    // The fake answers 101; 100 and 102 come from a canned answer through a tiny one-off server.
    for (const [statusCode, status] of [
      [100, 'Processed'],
      [102, 'Queued'],
    ] as const) {
      const answer = {
        SMSMessageData: {
          Message: 'Sent to 1/1 Total Cost: KES 0.8000',
          Recipients: [{ statusCode, number: TO, status, cost: 'KES 0.8000', messageId: 'ATXid_abc' }],
        },
      };
      const server = await cannedServer(201, JSON.stringify(answer));
      try {
        const result = await client({ baseUrl: server.url }).send({ to: TO, body: 'hi' });
        assert.deepEqual(result, {
          provider: 'africastalking',
          providerMessageId: 'ATXid_abc',
          providerStatus: status,
          segments: 1,
        });
      } finally {
        await server.close();
      }
    }
  });
});

describe('AfricasTalkingSmsClient recipient refusals', () => {
  test('an invalid number is 403 InvalidPhoneNumber, not retryable', async () => {
    await assert.rejects(
      client().send({ to: '0712345678', body: 'hi' }),
      providerError({ code: '403 InvalidPhoneNumber', retryable: false }),
    );
    assert.equal(fake.messages.length, 0);
  });

  for (const [statusCode, status] of [
    [401, 'RiskHold'],
    [402, 'InvalidSenderId'],
    [404, 'UnsupportedNumberType'],
    [406, 'UserInBlacklist'],
    [407, 'CouldNotRoute'],
    [409, 'DoNotDisturbRejection'],
  ] as const) {
    test(`${statusCode} ${status} is not retryable`, async () => {
      fake.failNext(1, { recipientStatusCode: statusCode, status });
      await assert.rejects(
        client().send({ to: TO, body: 'hi' }),
        providerError({ code: `${statusCode} ${status}`, retryable: false }),
      );
    });
  }

  for (const [statusCode, status] of [
    [405, 'InsufficientBalance'],
    [500, 'InternalServerError'],
    [501, 'GatewayError'],
    [502, 'RejectedByGateway'],
  ] as const) {
    test(`${statusCode} ${status} is retryable`, async () => {
      fake.failNext(1, { recipientStatusCode: statusCode, status });
      await assert.rejects(
        client().send({ to: TO, body: 'hi' }),
        providerError({ code: `${statusCode} ${status}`, retryable: true }),
      );
    });
  }

  test("no recipients at all is not retryable and carries AT's Message", async () => {
    fake.failNext(1, { noRecipients: 'InvalidSenderId' });
    await assert.rejects(
      client().send({ to: TO, body: 'hi' }),
      providerError({ code: 'NO_RECIPIENTS', retryable: false, message: /InvalidSenderId/ }),
    );
  });
});

describe('AfricasTalkingSmsClient HTTP failures', () => {
  test('a wrong API key is HTTP 401, not retryable, and the key is not in the error', async () => {
    const wrongKey = 'atsk_wrong_0123456789abcdef';
    await assert.rejects(client({ apiKey: wrongKey }).send({ to: TO, body: 'hi' }), (error: unknown) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.code, 'HTTP_401');
      assert.equal(error.retryable, false);
      assert.equal(error.httpStatus, 401);
      assert.match(error.message, /The supplied authentication is invalid/);
      assert.ok(!error.message.includes(wrongKey));
      return true;
    });
  });

  test('a wrong username is HTTP 401 too', async () => {
    await assert.rejects(
      client({ username: 'sandbox' }).send({ to: TO, body: 'hi' }),
      providerError({ code: 'HTTP_401', retryable: false, httpStatus: 401 }),
    );
  });

  test('HTTP 400 is not retryable', async () => {
    fake.failNext(1, { httpStatus: 400, body: "Request is missing required form field 'to'" });
    await assert.rejects(
      client().send({ to: TO, body: 'hi' }),
      providerError({
        code: 'HTTP_400',
        retryable: false,
        httpStatus: 400,
        message: /missing required form field/,
      }),
    );
  });

  test('HTTP 500 and 503 are retryable; the next attempt succeeds', async () => {
    fake.failNext(1, { httpStatus: 500 });
    fake.failNext(1, { httpStatus: 503, retryAfter: 12 });
    await assert.rejects(
      client().send({ to: TO, body: 'hi' }),
      providerError({ code: 'HTTP_500', retryable: true, httpStatus: 500 }),
    );
    await assert.rejects(
      client().send({ to: TO, body: 'hi' }),
      providerError({ code: 'HTTP_503', retryable: true, httpStatus: 503, retryAfterSeconds: 12 }),
    );
    assert.equal((await client().send({ to: TO, body: 'hi' })).providerStatus, 'Success');
  });

  test('HTTP 429 is retryable with Retry-After', async () => {
    fake.failNext(1, { httpStatus: 429, retryAfter: '3' });
    await assert.rejects(
      client().send({ to: TO, body: 'hi' }),
      providerError({ code: 'HTTP_429', retryable: true, httpStatus: 429, retryAfterSeconds: 3 }),
    );
  });

  test('an unreachable AT is NETWORK, retryable', async () => {
    const gone = await startFakeAfricasTalking({ username: USERNAME, apiKey: API_KEY });
    const baseUrl = gone.url;
    await gone.close();
    await assert.rejects(
      client({ baseUrl }).send({ to: TO, body: 'hi' }),
      providerError({ code: 'NETWORK', retryable: true }),
    );
  });

  test('no answer within timeoutMs is TIMEOUT, retryable, though AT may still accept it', async () => {
    fake.setDelay(300);
    await assert.rejects(
      client({ timeoutMs: 100 }).send({ to: TO, body: 'hi' }),
      providerError({ code: 'TIMEOUT', retryable: true }),
    );
    await waitFor(() => fake.messages.length === 1);
  });

  test('a 2xx that is not the JSON answer is MALFORMED_RESPONSE, retryable', async () => {
    const server = await cannedServer(201, '<AfricasTalkingResponse/>');
    try {
      await assert.rejects(
        client({ baseUrl: server.url }).send({ to: TO, body: 'hi' }),
        providerError({ code: 'MALFORMED_RESPONSE', retryable: true }),
      );
    } finally {
      await server.close();
    }
  });
});

describe('delivery reports from the fake', () => {
  let receiver: Server;
  let callbackUrl: string;
  const received: { headers: IncomingMessage['headers']; params: Record<string, string> }[] = [];

  before(async () => {
    receiver = createServer((request, response) => {
      readForm(request).then((params) => {
        received.push({ headers: request.headers, params });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/sms/at`;
  });

  after(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  beforeEach(() => {
    received.length = 0;
  });

  test('are unsigned form POSTs with id, status, phoneNumber, networkCode, retryCount', async () => {
    await client().send({ to: TO, body: 'hi' });
    const message = fake.messages[0];
    assert.ok(message);
    assert.equal(await fake.sendDeliveryReport(callbackUrl, message, { status: 'Success' }), 200);
    assert.equal(received[0]?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(received[0]?.headers['x-twilio-signature'], undefined);
    assert.deepEqual(received[0]?.params, {
      id: message.messageId,
      status: 'Success',
      phoneNumber: TO,
      networkCode: '63902',
      retryCount: '0',
    });
  });

  test('a failure carries failureReason', async () => {
    await client().send({ to: TO, body: 'hi' });
    const message = fake.messages[0];
    assert.ok(message);
    await fake.sendDeliveryReport(callbackUrl, message, {
      status: 'Failed',
      failureReason: 'UserInBlackList',
      retryCount: 2,
    });
    assert.equal(received[0]?.params.failureReason, 'UserInBlackList');
    assert.equal(received[0]?.params.retryCount, '2');
  });
});

/** A one-off server answering every request with the same status and body, for answers the fake never gives. */
async function cannedServer(
  status: number,
  text: string,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

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
